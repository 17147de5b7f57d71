// Test fixtures for the data readers: tiny files in each format and a network stub.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import type { InputEncoding, Network, SampleShape } from '../../common/network';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Creates an empty temporary folder; call the returned function to delete it. */
export function makeTempFolder(): { folder: string; remove: () => void } {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'snnc-data-'));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Builds a network stub whose data-related fields are set from the arguments. */
export function makeNetwork(
  dataset: string | null,
  inputShape: SampleShape,
  options: { encoding?: InputEncoding; dataPath?: string | null; nClass?: number } = {},
): Network {
  return {
    name: 'fixture',
    specFile: 'specs/fixture.yaml',
    specHash: '0',
    nSteps: 5,
    tauM: 5,
    tauS: 3,
    loss: 'kernel',
    nClass: options.nClass ?? 10,
    desiredCount: 4,
    undesiredCount: 1,
    batchSize: 2,
    lr: 0.0005,
    epochs: 1,
    dataset,
    dataPath: options.dataPath ?? null,
    inputEncoding: options.encoding ?? 'static',
    inputShape,
    layers: [],
  };
}

function uint32BE(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}

/** Encodes IDX images (magic 0x00000803) from one byte array per image. */
export function idxImages(images: Uint8Array[], rows: number, cols: number): Buffer {
  return Buffer.concat([uint32BE(0x00000803), uint32BE(images.length), uint32BE(rows), uint32BE(cols), ...images]);
}

/** Encodes IDX labels (magic 0x00000801). */
export function idxLabels(labels: number[]): Buffer {
  return Buffer.concat([uint32BE(0x00000801), uint32BE(labels.length), Buffer.from(labels)]);
}

/** Writes `bytes` to `folder/name`, gzip-compressed when the name ends in `.gz`. */
export function writeData(folder: string, name: string, bytes: Buffer): string {
  const file = path.join(folder, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, name.endsWith('.gz') ? zlib.gzipSync(bytes) : bytes);
  return file;
}

/** Returns `count` images of `size` bytes whose pixels follow a per-image pattern. */
export function patternImages(count: number, size: number): Uint8Array[] {
  return Array.from({ length: count }, (_, image) =>
    Uint8Array.from({ length: size }, (_, pixel) => (image * 37 + pixel * 11) % 256),
  );
}

/** Encodes CIFAR-10 binary records: a label byte, then 3072 pixel bytes each. */
export function cifarRecords(labels: number[], images: Uint8Array[]): Buffer {
  return Buffer.concat(labels.flatMap((label, i) => [Buffer.from([label]), images[i]]));
}

export interface TestEvent {
  x: number;
  y: number;
  polarity: 0 | 1;
  /** Microseconds, below 2^23. */
  time: number;
}

/** Encodes N-MNIST events: x, y, then polarity bit and 23-bit timestamp, big-endian. */
export function nmnistEvents(events: TestEvent[]): Buffer {
  const bytes = Buffer.alloc(events.length * 5);
  events.forEach((event, i) => {
    bytes[i * 5] = event.x;
    bytes[i * 5 + 1] = event.y;
    bytes[i * 5 + 2] = (event.polarity << 7) | ((event.time >> 16) & 0x7f);
    bytes[i * 5 + 3] = (event.time >> 8) & 0xff;
    bytes[i * 5 + 4] = event.time & 0xff;
  });
  return bytes;
}

/** Returns the MNIST normalisation of one byte, computed here independently of the reader. */
export function mnistValue(byte: number): number {
  return (byte / 255 - 0.1307) / 0.3081;
}

/** Awaits `promise` and returns its rejection message, or fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  throw new Error('expected a rejection, but the promise resolved');
}
