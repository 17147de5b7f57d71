// Training state: the settings, per-epoch metrics and loop position that a run records
// and a checkpoint carries.

import type { RngState } from '../rng';

/** Settings of one training run after flags have overridden the spec. */
export interface RunSettings {
  epochs: number;
  batchSize: number;
  /** AdamW learning rate. */
  lr: number;
  /** Seed of the generator behind initial weights, shuffling, dropout masks and augmentation. */
  seed: number;
  /** Train on the first N training examples only; null means all. */
  limitTrain: number | null;
  /** Evaluate on the first N test examples only; null means all. */
  limitTest: number | null;
}

/** One line of metrics.jsonl. Accuracies are fractions in [0, 1]. */
export interface EpochMetrics {
  epoch: number;
  /** Mean loss per training example over the epoch, with dropout active. */
  trainLoss: number;
  /** Fraction of training examples classified correctly during the epoch's steps. */
  trainAccuracy: number;
  testAccuracy: number;
  bestAccuracy: number;
  bestEpoch: number;
  /** Wall-clock seconds of the epoch: batch loop plus evaluation. */
  seconds: number;
  trainExamples: number;
  /** Wall-clock seconds of the batch loop: batch preparation and training steps. */
  trainSeconds: number;
  /** `trainExamples / trainSeconds`. */
  imagesPerSecond: number;
}

/** The best test result so far and the confusion matrix behind it. */
export interface BestResult {
  accuracy: number;
  epoch: number;
  /** `confusion[trueClass][predictedClass]` = number of test examples. */
  confusion: number[][];
}

/** Sums over the batches of the epoch in progress. */
export interface EpochProgress {
  lossSum: number;
  correct: number;
  seen: number;
  trainSeconds: number;
}

/** Position and accumulated results of the training loop, enough to continue it exactly. */
export interface TrainingState {
  /** Number of finished and evaluated epochs. */
  epochsDone: number;
  /** Batches of epoch `epochsDone + 1` already trained. */
  batchesDone: number;
  /** Example order of epoch `epochsDone + 1`, once that epoch has started; null before. */
  order: Int32Array | null;
  /** State of the training generator after the last finished batch. */
  rngState: RngState;
  best: BestResult | null;
  history: EpochMetrics[];
  partial: EpochProgress;
  /** Wall-clock seconds of training so far, over every resumed session. */
  elapsedSeconds: number;
}

export function emptyProgress(): EpochProgress {
  return { lossSum: 0, correct: 0, seen: 0, trainSeconds: 0 };
}
