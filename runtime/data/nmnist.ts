// Runtime data: N-MNIST reader, binning each sample's events into `T` steps.
//
// Binning: every event sets one value to 1 in a `[2, 34, 34, T]` tensor (time fastest):
// channel = polarity bit (0 OFF, 1 ON), row = y, column = x, step = the event's time bin.
// Several events in one bin still give 1. With a fixed bin width `w` (default 3 ms), step
// `t` contains timestamps in [t·w, (t+1)·w) and later events are dropped, so T = 30 covers
// the first 90 ms. This matches the reference TSSL-BP N-MNIST data (3 ms bins, binary
// values), except that the reference also removed the saccade motion first. With the
// width set to null, the T bins split each sample's first-to-last event span evenly.

import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { InputEncoding, SampleShape } from '../../common/network';
import type { Rng } from '../rng';
import type { DataSplit, Dataset, OpenDataOptions } from './dataset';
import { DataError } from './errors';
import { formatCount, isFolder } from './files';

export const NMNIST_SIZE = 34;
export const NMNIST_EVENT_BYTES = 5;
/** Default bin width in microseconds, as in the reference TSSL-BP N-MNIST runs. */
export const DEFAULT_EVENT_BIN_US = 3000;

const N_CLASS = 10;
const FIX_TRAIN = 'unpack the N-MNIST Train.zip into the --data folder';
const FIX_TEST = 'unpack the N-MNIST Test.zip into the --data folder';

/**
 * Bins the events of one N-MNIST file into out[offset…] (`2·34·34·nSteps` values,
 * cleared first). Each 5-byte event is x (8 bits), y (8 bits), then polarity (1 bit)
 * and a timestamp in microseconds (23 bits), big-endian. Events outside 34×34 are
 * dropped. `binUs` null spreads the steps over the events' own time span.
 */
export function binEvents(
  bytes: Uint8Array,
  nSteps: number,
  binUs: number | null,
  out: Float32Array,
  offset: number,
): void {
  const size = NMNIST_SIZE;
  out.fill(0, offset, offset + 2 * size * size * nSteps);
  const count = Math.floor(bytes.length / NMNIST_EVENT_BYTES);
  if (count === 0) return;

  let first = 0;
  let span = 0;
  if (binUs === null) {
    first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < count; i++) {
      const time = timestampAt(bytes, i * NMNIST_EVENT_BYTES);
      first = Math.min(first, time);
      last = Math.max(last, time);
    }
    span = last - first + 1;
  }

  for (let i = 0; i < count; i++) {
    const at = i * NMNIST_EVENT_BYTES;
    const x = bytes[at];
    const y = bytes[at + 1];
    if (x >= size || y >= size) continue;

    const polarity = bytes[at + 2] >> 7;
    const time = timestampAt(bytes, at);
    const step = binUs === null ? Math.floor(((time - first) * nSteps) / span) : Math.floor(time / binUs);
    if (step >= nSteps) continue;

    out[offset + ((polarity * size + y) * size + x) * nSteps + step] = 1;
  }
}

function timestampAt(bytes: Uint8Array, at: number): number {
  return ((bytes[at + 2] & 0x7f) << 16) | (bytes[at + 3] << 8) | bytes[at + 4];
}

/**
 * N-MNIST samples listed by file; each `write` reads its file from disk, so 70,000
 * samples cost only their paths in memory.
 */
export class EventDataset implements Dataset {
  readonly length: number;
  readonly sampleShape: SampleShape = [2, NMNIST_SIZE, NMNIST_SIZE];
  readonly encoding: InputEncoding = 'events';
  readonly nClass = N_CLASS;

  constructor(
    readonly name: string,
    private readonly files: string[],
    private readonly labels: Uint8Array,
    /** Steps `T` that `write` bins into. */
    readonly nSteps: number,
    readonly binUs: number | null,
  ) {
    this.length = files.length;
  }

  label(index: number): number {
    return this.labels[this.check(index)];
  }

  /** Returns the path of sample `index`'s event file. */
  file(index: number): string {
    return this.files[this.check(index)];
  }

  /** Writes the binned events; `augment` is ignored, since N-MNIST is not augmented. */
  write(index: number, out: Float32Array, offset: number, _augment?: Rng): void {
    const file = this.files[this.check(index)];
    // NOTE: sizes are checked when a sample is read, not when the set is opened, so a
    // damaged file among the 70,000 stops the run when its batch comes up.
    const bytes = readEventFile(file);
    binEvents(bytes, this.nSteps, this.binUs, out, offset);
  }

  private check(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`sample index ${index} is outside ${this.name}, which has ${this.length} samples`);
    }
    return index;
  }
}

/** Reads one `.bin` file and checks that it contains whole 5-byte events. */
export function readEventFile(file: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`data: cannot read ${file} (${reason}); check the file or download the data set again`, file);
  }
  if (bytes.length % NMNIST_EVENT_BYTES !== 0) {
    throw new DataError(
      `data: ${file} is ${formatCount(bytes.length)} bytes, not a whole number of ${NMNIST_EVENT_BYTES}-byte events; ` +
        'the file is truncated or not an N-MNIST .bin file, download the data set again',
      file,
    );
  }
  return bytes;
}

/**
 * Opens N-MNIST from `folder`: `Test/0` … `Test/9` must contain `.bin` files, and `Train/…`
 * follows `options.train`. Lowercase `train`/`test` folder names are accepted too.
 */
export async function openNmnistFolder(
  folder: string,
  options: Pick<OpenDataOptions, 'train' | 'nSteps' | 'eventBinUs'>,
): Promise<DataSplit> {
  const mode = options.train ?? 'optional';
  const binUs = options.eventBinUs === undefined ? DEFAULT_EVENT_BIN_US : options.eventBinUs;
  if (binUs !== null && !(binUs > 0)) {
    throw new DataError(`data: the N-MNIST bin width must be a positive number of microseconds, found ${binUs}`);
  }

  const testRoot = findPartFolder(folder, 'Test');
  if (!testRoot) {
    const expected = path.join(folder, 'Test');
    throw new DataError(
      `data: ${expected} not found; expected the N-MNIST test set there, ` +
        `one folder per digit 0–9 of .bin files (${FIX_TEST})`,
      expected,
    );
  }

  const bins =
    binUs === null ? `${options.nSteps} steps over each sample's span` : `${options.nSteps} steps of ${binUs / 1000} ms`;
  const openPart = async (part: 'train' | 'test', root: string, fix: string) => {
    const listed = await listPart(root, fix);
    const name = `N-MNIST ${part} (${path.basename(root)}/, ${bins})`;
    return new EventDataset(name, listed.files, listed.labels, options.nSteps, binUs);
  };
  const test = await openPart('test', testRoot, FIX_TEST);

  let train: EventDataset | null = null;
  const trainRoot = mode === 'skip' ? null : findPartFolder(folder, 'Train');
  if (trainRoot) {
    train = await openPart('train', trainRoot, FIX_TRAIN);
  } else if (mode === 'required') {
    const expected = path.join(folder, 'Train');
    throw new DataError(
      `data: ${expected} not found; expected the N-MNIST training set there, one folder per digit 0–9 of .bin files ` +
        `(${FIX_TRAIN}; evaluation needs only Test)`,
      expected,
    );
  }

  const counts = train
    ? `${formatCount(train.length)} train, ${formatCount(test.length)} test`
    : `${formatCount(test.length)} test; no training files`;
  return { train, test, description: `data: N-MNIST event files in ${folder} (${counts}; ${bins})` };
}

function findPartFolder(folder: string, part: 'Train' | 'Test'): string | null {
  for (const name of [part, part.toLowerCase()]) {
    const candidate = path.join(folder, name);
    if (isFolder(candidate)) return candidate;
  }
  return null;
}

async function listPart(root: string, fix: string): Promise<{ files: string[]; labels: Uint8Array }> {
  const files: string[] = [];
  const labels: number[] = [];

  for (let digit = 0; digit < N_CLASS; digit++) {
    const digitFolder = path.join(root, String(digit));
    if (!isFolder(digitFolder)) {
      throw new DataError(
        `data: ${digitFolder} not found; expected one folder per digit 0–9 of .bin files in ${root} (${fix})`,
        digitFolder,
      );
    }

    const names = (await fs.readdir(digitFolder))
      .filter((name) => name.endsWith('.bin'))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (names.length === 0) {
      throw new DataError(`data: ${digitFolder} contains no .bin files; ${fix}`, digitFolder);
    }
    for (const name of names) {
      files.push(path.join(digitFolder, name));
      labels.push(digit);
    }
  }
  return { files, labels: Uint8Array.from(labels) };
}
