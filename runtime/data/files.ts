// Runtime data: file-system helpers shared by the readers (lookup, gzip, byte checks).

import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DataError } from './errors';

const gunzip = promisify(zlib.gunzip);

/** Returns whether `target` exists and is a folder. */
export function isFolder(target: string): boolean {
  try {
    return statSync(target).isDirectory();
  } catch {
    return false;
  }
}

/** Returns whether `target` exists and is a regular file. */
export function isFile(target: string): boolean {
  try {
    return statSync(target).isFile();
  } catch {
    return false;
  }
}

/**
 * Returns the path of `name` in `folder`, uncompressed or with `.gz` appended
 * (uncompressed first because it reads faster), or null when neither exists.
 */
export function findMaybeGzipped(folder: string, name: string): string | null {
  for (const candidate of [name, `${name}.gz`]) {
    const full = path.join(folder, candidate);
    if (isFile(full)) return full;
  }
  return null;
}

/**
 * Reads a whole file and inflates it when it starts with the gzip magic bytes, so a
 * `.gz` file and its uncompressed form read the same. `fix` ends the error messages.
 */
export async function readMaybeGzipped(file: string, fix: string): Promise<Uint8Array> {
  const bytes = await readWhole(file, fix);
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

  if (!gzipped) {
    if (file.endsWith('.gz')) {
      throw new DataError(
        `data: ${file} is not a gzip file (it starts with ${hexBytes(bytes, 4)}); ${fix}`,
        file,
      );
    }
    return bytes;
  }

  try {
    return new Uint8Array(await gunzip(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`data: ${file} is not a valid gzip file (${reason}); ${fix}`, file);
  }
}

/** Reads a whole file; a read failure becomes a `DataError` naming the file. */
export async function readWhole(file: string, fix: string): Promise<Uint8Array> {
  try {
    const buffer = await fs.readFile(file);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`data: ${file} not found; ${fix}`, file);
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`data: cannot read ${file} (${reason}); ${fix}`, file);
  }
}

/** Reads a big-endian unsigned 32-bit integer. */
export function readUint32BE(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** Formats a 32-bit value as `0x` and eight hex digits, as magic numbers are usually written. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** Formats up to `count` leading bytes as hex, e.g. `0x00 0x00 0x08 0x03`. */
function hexBytes(bytes: Uint8Array, count: number): string {
  if (bytes.length === 0) return 'nothing, the file is empty';
  const hexList = Array.from(bytes.subarray(0, count), (byte) => `0x${byte.toString(16).padStart(2, '0')}`);
  return hexList.join(' ');
}

/** Formats a count with thousands separators, e.g. `7,840,016`. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
