// Evaluation: class predictions from output PSPs, accuracy and the confusion matrix.

import type { Engine } from '../engine';
import { batches, type Dataset } from '../data';

/**
 * Predicts one class per sample as `argmax_c Σ_t ψ[c, t]`, the sum of output PSPs over time
 * (not of spikes) from `[batch, n_class, 1, 1, T]`. Ties go to the lower class index.
 */
export function predictClasses(outputPsp: Float32Array, batchSize: number, nClass: number, nSteps: number): Int32Array {
  if (outputPsp.length < batchSize * nClass * nSteps) {
    throw new Error(`output PSP has ${outputPsp.length} values, expected ${batchSize}×${nClass}×${nSteps}`);
  }
  const predictions = new Int32Array(batchSize);
  for (let sample = 0; sample < batchSize; sample++) {
    let bestClass = 0;
    let bestSum = -Infinity;
    for (let c = 0; c < nClass; c++) {
      const start = (sample * nClass + c) * nSteps;
      let sum = 0;
      for (let t = 0; t < nSteps; t++) sum += outputPsp[start + t];
      if (sum > bestSum) {
        bestSum = sum;
        bestClass = c;
      }
    }
    predictions[sample] = bestClass;
  }
  return predictions;
}

/** Counts the predictions that match their label. */
export function countCorrect(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct;
}

export interface Evaluation {
  accuracy: number;
  /** `confusion[trueClass][predictedClass]`; all counts sum to the number of examples. */
  confusion: number[][];
  examples: number;
}

export interface EvaluateOptions {
  batchSize: number;
  /** Evaluate the first `limit` examples only. */
  limit?: number | null;
  /** Stops between batches; `evaluate` then returns null. */
  signal?: AbortSignal;
  /** Called with the number of examples done after each batch. */
  onProgress?: (done: number, total: number) => void;
}

/** Runs the evaluation forward pass over a test set in order and tallies the confusion matrix. */
export async function evaluate(engine: Engine, dataset: Dataset, options: EvaluateOptions): Promise<Evaluation | null> {
  const { nClass, nSteps } = engine.network;
  const total = Math.min(dataset.length, options.limit ?? Infinity);
  const order = Int32Array.from({ length: total }, (_, i) => i);
  const confusion = Array.from({ length: nClass }, () => new Array<number>(nClass).fill(0));
  let correct = 0;
  let done = 0;

  for await (const batch of batches(dataset, order, options.batchSize, nSteps)) {
    if (options.signal?.aborted) return null;
    const outputPsp = await engine.forward(batch);
    const predictions = predictClasses(outputPsp, batch.size, nClass, nSteps);
    for (let i = 0; i < batch.size; i++) {
      confusion[batch.labels[i]][predictions[i]]++;
      if (predictions[i] === batch.labels[i]) correct++;
    }
    done += batch.size;
    options.onProgress?.(done, total);
  }
  return { accuracy: total === 0 ? 0 : correct / total, confusion, examples: total };
}

/** Formats a confusion matrix as an aligned text table, true classes as rows. */
export function formatConfusion(confusion: number[][], classNames: string[]): string {
  const labels = confusion.map((_, c) => classNames[c] ?? String(c));
  const width = Math.max(5, ...labels.map((label) => label.length), ...confusion.flat().map((n) => String(n).length));
  const rowLabelWidth = Math.max(4, ...labels.map((label) => label.length));
  const lines = [`${'true'.padEnd(rowLabelWidth)}  predicted →`];
  lines.push(`${' '.repeat(rowLabelWidth)}  ${labels.map((label) => label.padStart(width)).join(' ')}`);
  confusion.forEach((row, c) => {
    lines.push(`${labels[c].padEnd(rowLabelWidth)}  ${row.map((n) => String(n).padStart(width)).join(' ')}`);
  });
  return lines.join('\n');
}
