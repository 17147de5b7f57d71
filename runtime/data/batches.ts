// Runtime data: assembles batches from a data set, one batch ahead of the trainer.

import { sampleSize } from '../../common/network';
import type { Batch } from '../engine';
import { Rng } from '../rng';
import type { Dataset } from './dataset';
import { EventDataset } from './nmnist';

/** Returns the number of input values per sample: c·h·w, times `nSteps` for event data. */
export function valuesPerSample(dataset: Dataset, nSteps: number): number {
  const values = sampleSize(dataset.sampleShape);
  return dataset.encoding === 'events' ? values * nSteps : values;
}

/**
 * Builds one batch from the samples at `indices`, in that order. Static input is
 * `[batch, c, h, w]`; event input is `[batch, c, h, w, T]`, time fastest. `augment`
 * draws each sample's augmentation in index order (CIFAR-10 training sets only).
 */
export function makeBatch(dataset: Dataset, indices: ArrayLike<number>, nSteps: number, augment?: Rng): Batch {
  if (dataset instanceof EventDataset && dataset.nSteps !== nSteps) {
    throw new RangeError(`makeBatch: ${dataset.name} was opened for ${dataset.nSteps} time steps, not ${nSteps}`);
  }

  const size = indices.length;
  const stride = valuesPerSample(dataset, nSteps);
  const input = new Float32Array(size * stride);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    dataset.write(indices[i], input, i * stride, augment);
    labels[i] = dataset.label(indices[i]);
  }
  return { size, input, labels };
}

export interface BatchOptions {
  /** Leave out a last batch smaller than `batchSize`. Default false. */
  dropLast?: boolean;
  /** Index of the first batch to yield, to resume a partly finished epoch. Default 0. */
  startBatch?: number;
}

/**
 * Yields batches in `order`, preparing the next batch while the caller awaits the
 * current one. The next batch is built in a macrotask that is scheduled before the
 * current batch is yielded, so it runs while the caller's engine call waits.
 *
 * With `augment`, this draws one 32-bit value from it when the generator starts, and
 * batch `b` augments with an `Rng` seeded from that value and `b`. The augmentation of
 * a batch therefore depends only on `augment`'s state at the call and on `b`, not on
 * prefetching or on `startBatch`: a resumed run that restores `augment` to its state at
 * the start of the epoch gets the same augmentation for the remaining batches.
 */
export async function* batches(
  dataset: Dataset,
  order: Int32Array,
  batchSize: number,
  nSteps: number,
  augment?: Rng,
  options: BatchOptions = {},
): AsyncGenerator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batches: batch size must be a positive integer, found ${batchSize}`);
  }
  const fullBatches = Math.floor(order.length / batchSize);
  const batchCount = options.dropLast || order.length % batchSize === 0 ? fullBatches : fullBatches + 1;
  const startBatch = options.startBatch ?? 0;
  if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > batchCount) {
    throw new RangeError(`batches: startBatch ${startBatch} is outside 0–${batchCount} for this epoch`);
  }
  const epochSeed = augment ? augment.nextUint32() : 0;

  const build = (batch: number): Batch => {
    const indices = order.subarray(batch * batchSize, Math.min((batch + 1) * batchSize, order.length));
    const rng = augment ? new Rng(batchSeed(epochSeed, batch)) : undefined;
    return makeBatch(dataset, indices, nSteps, rng);
  };

  let pending = startBatch < batchCount ? buildLater(build, startBatch) : null;
  for (let batch = startBatch; batch < batchCount; batch++) {
    const current = await pending!;
    pending = batch + 1 < batchCount ? buildLater(build, batch + 1) : null;
    yield current;
  }
}

/** Schedules `build(batch)` as a macrotask; the promise settles with its batch or error. */
function buildLater(build: (batch: number) => Batch, batch: number): Promise<Batch> {
  const promise = new Promise<Batch>((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(build(batch));
      } catch (error) {
        reject(error);
      }
    });
  });
  // A consumer that stops early never awaits the prefetched batch; keep its error silent.
  promise.catch(() => undefined);
  return promise;
}

/** Mixes the epoch's seed with the batch index (a golden-ratio multiply, then SplitMix in `Rng`). */
function batchSeed(epochSeed: number, batch: number): number {
  return (epochSeed ^ Math.imul(batch + 1, 0x9e3779b1)) >>> 0;
}
