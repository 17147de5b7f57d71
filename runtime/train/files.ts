// Training output: crash-safe file writes and the early writability probe of a run directory.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A file the trainer could not write; the message names the path and the fix. */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

/**
 * Writes `data` to `path` so that a reader sees either the old file or the complete new one.
 * The bytes go to a temporary file in the same directory, are fsync'd, and the temporary file
 * is renamed over `path`. A kill mid-write leaves at most a stray `*.tmp` file behind.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temporary, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    syncDirectory(dirname(path));
  } catch (error) {
    removeQuietly(temporary);
    throw new OutputError(describeWriteError(path, error));
  }
}

/**
 * Creates `dir` if needed and writes, syncs and deletes a probe file there, so that a
 * read-only or full file system is reported before any training starts.
 */
export function probeWritable(dir: string): void {
  const probe = join(dir, `.write-probe.${process.pid}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, Buffer.alloc(4096));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (error) {
    removeQuietly(probe);
    throw new OutputError(describeWriteError(dir, error));
  }
}

/** Turns a file-system error into one line that names the path and what to do. */
export function describeWriteError(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return `no space left on the device while writing ${path}: free some space or choose another run directory with --out DIR`;
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return `cannot write ${path} (${code}, permission denied or read-only file system): choose a writable run directory with --out DIR`;
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    return `cannot write ${path} (${code}, a file is in the way of a directory): choose another run directory with --out DIR`;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return `cannot write ${path}: ${reason}`;
}

/** Deletes a file if it exists; a failure here must not hide the error being reported. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // The path may lie under a file or an unreadable folder; nothing was created there.
  }
}

function syncDirectory(dir: string): void {
  // Makes the rename durable; some file systems reject fsync on a directory, which is harmless.
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // The data itself is already synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
