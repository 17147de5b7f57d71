// Training loop: shuffled TSSL-BP epochs, evaluation after each, checkpoints and run reports,
// with exact continuation from a checkpoint written at an epoch boundary or mid-epoch.

import { join } from 'node:path';
import { batches, type Dataset } from '../data';
import { NonFiniteError, type Engine } from '../engine';
import { initialWeights } from '../init';
import { Rng } from '../rng';
import { writeCheckpoint, type Checkpoint } from './checkpoint';
import { drawDropoutMasks } from './dropout';
import { countCorrect, evaluate, predictClasses } from './evaluate';
import { formatDuration, type ProgressReporter } from './progress';
import { summarise, writeConfusion, writeCurves, writeMetrics, writeSummary } from './report';
import { emptyProgress, type EpochMetrics, type RunSettings, type TrainingState } from './types';

export interface TrainOptions {
  engine: Engine;
  train: Dataset;
  test: Dataset;
  /** Display name per class index, for the confusion matrix. */
  classNames: string[];
  settings: RunSettings;
  /** Directory for checkpoints and reports; must exist and be writable. */
  runDir: string;
  /** Checkpoint to continue from; without one, weights are drawn from `settings.seed`. */
  resume?: Checkpoint;
  /** Aborting stops after the current batch and writes `last.ckpt` at that position. */
  signal?: AbortSignal;
  /** Receives each finished line of console output. */
  log?: (line: string) => void;
  progress?: ProgressReporter;
  /** Recorded in summary.json. */
  commandLine?: string;
}

export type TrainOutcome =
  | { status: 'completed'; state: TrainingState }
  | { status: 'interrupted'; state: TrainingState; checkpointPath: string }
  | {
      status: 'non-finite';
      state: TrainingState;
      /** 1-based epoch and batch of the failed step. */
      epoch: number;
      batch: number;
      batches: number;
      error: NonFiniteError;
      /** The newest checkpoint written before the failure, or null if none exists yet. */
      lastCheckpoint: string | null;
    };

/** Trains until `settings.epochs` epochs are done, the signal aborts, or a step goes non-finite. */
export async function train(options: TrainOptions): Promise<TrainOutcome> {
  const sessionStart = performance.now();
  const outcome = await trainEpochs(options);
  outcome.state.elapsedSeconds += (performance.now() - sessionStart) / 1000;
  return outcome;
}

async function trainEpochs(options: TrainOptions): Promise<TrainOutcome> {
  const { engine, settings, runDir } = options;
  const network = engine.network;
  const log = options.log ?? (() => {});
  const lastPath = join(runDir, 'last.ckpt');
  const bestPath = join(runDir, 'best.ckpt');

  const { state, rng } = startState(options);
  let lastCheckpoint: string | null = options.resume ? lastPath : null;
  const sessionStart = performance.now();
  const elapsedBefore = state.elapsedSeconds;
  const elapsed = () => elapsedBefore + (performance.now() - sessionStart) / 1000;

  const trainSize = Math.min(options.train.length, settings.limitTrain ?? Infinity);
  const batchCount = Math.ceil(trainSize / settings.batchSize);

  const checkpoint = (): Checkpoint => ({
    specName: network.name,
    specHash: network.specHash,
    settings,
    state: { ...state, elapsedSeconds: elapsed() },
    weights: engine.getWeights(),
    optimizer: engine.getOptimizerState(),
  });

  for (let epoch = state.epochsDone + 1; epoch <= settings.epochs; epoch++) {
    if (state.order === null) {
      state.order = Int32Array.from({ length: trainSize }, (_, i) => i);
      rng.shuffle(state.order);
    }
    const order = state.order;

    options.progress?.start(`epoch ${epoch}/${settings.epochs}`, trainSize, Math.min(state.batchesDone * settings.batchSize, trainSize));
    const epochBatches = batches(options.train, order, settings.batchSize, network.nSteps, augmentRng(settings.seed, epoch), {
      startBatch: state.batchesDone,
    });
    let lastMark = performance.now();

    // The generator builds the next batch while this step computes.
    for await (const batch of epochBatches) {
      const index = state.batchesDone;
      const dropoutMasks = drawDropoutMasks(network, batch.size, rng);
      let result;
      try {
        result = await engine.trainStep(batch, settings.lr, { dropoutMasks });
      } catch (error) {
        if (!(error instanceof NonFiniteError)) throw error;
        options.progress?.stop();
        return { status: 'non-finite', state, epoch, batch: index + 1, batches: batchCount, error, lastCheckpoint };
      }

      const predictions = predictClasses(result.outputPsp, batch.size, network.nClass, network.nSteps);
      state.partial.correct += countCorrect(predictions, batch.labels);
      state.partial.lossSum += network.loss === 'softmax' ? result.loss * batch.size : result.loss;
      state.partial.seen += batch.size;
      const now = performance.now();
      state.partial.trainSeconds += (now - lastMark) / 1000;
      lastMark = now;
      state.batchesDone = index + 1;
      state.rngState = rng.getState();
      options.progress?.update(Math.min(state.batchesDone * settings.batchSize, trainSize));

      if (options.signal?.aborted) {
        options.progress?.stop();
        writeCheckpoint(lastPath, checkpoint());
        return { status: 'interrupted', state, checkpointPath: lastPath };
      }
    }
    options.progress?.stop();

    const evaluationStart = performance.now();
    const evaluation = await evaluate(engine, options.test, {
      batchSize: settings.batchSize,
      limit: settings.limitTest,
      signal: options.signal,
    });
    if (evaluation === null) {
      // Interrupted during evaluation: every batch is trained, so a resume only re-evaluates.
      writeCheckpoint(lastPath, checkpoint());
      return { status: 'interrupted', state, checkpointPath: lastPath };
    }
    const evaluationSeconds = (performance.now() - evaluationStart) / 1000;

    const improved = state.best === null || evaluation.accuracy > state.best.accuracy;
    if (improved) state.best = { accuracy: evaluation.accuracy, epoch, confusion: evaluation.confusion };
    const best = state.best!;
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: state.partial.seen > 0 ? state.partial.lossSum / state.partial.seen : 0,
      trainAccuracy: state.partial.seen > 0 ? state.partial.correct / state.partial.seen : 0,
      testAccuracy: evaluation.accuracy,
      bestAccuracy: best.accuracy,
      bestEpoch: best.epoch,
      seconds: state.partial.trainSeconds + evaluationSeconds,
      trainExamples: state.partial.seen,
      trainSeconds: state.partial.trainSeconds,
      imagesPerSecond: state.partial.trainSeconds > 0 ? state.partial.seen / state.partial.trainSeconds : 0,
    };
    state.history.push(metrics);
    state.epochsDone = epoch;
    state.batchesDone = 0;
    state.order = null;
    state.partial = emptyProgress();

    if (improved) {
      writeCheckpoint(bestPath, checkpoint());
      writeConfusion(runDir, network.name, best, options.classNames);
    }
    writeCheckpoint(lastPath, checkpoint());
    lastCheckpoint = lastPath;
    writeMetrics(runDir, state.history);
    writeCurves(runDir, network.name, state.history);
    writeSummary(runDir, summarise(network.name, settings, state.history, state.best, elapsed(), options.commandLine ?? ''));
    log(formatEpochLine(metrics, settings.epochs, elapsed()));

    if (options.signal?.aborted) return { status: 'interrupted', state, checkpointPath: lastPath };
  }

  return { status: 'completed', state };
}

/** Formats `epoch 3/20  train loss 0.412  train acc 95.10%  test acc 97.35%  best 97.35% (epoch 3)  elapsed 2m14s`. */
export function formatEpochLine(metrics: EpochMetrics, epochs: number, elapsedSeconds: number): string {
  const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;
  return [
    `epoch ${metrics.epoch}/${epochs}`,
    `train loss ${metrics.trainLoss.toFixed(3)}`,
    `train acc ${percent(metrics.trainAccuracy)}`,
    `test acc ${percent(metrics.testAccuracy)}`,
    `best ${percent(metrics.bestAccuracy)} (epoch ${metrics.bestEpoch})`,
    `elapsed ${formatDuration(elapsedSeconds)}`,
  ].join('  ');
}

/** Describes a non-finite step in one line: where it happened, what was kept and what to try. */
export function describeNonFinite(outcome: Extract<TrainOutcome, { status: 'non-finite' }>): string {
  const { error } = outcome;
  const site = error.where === 'loss' ? 'the loss' : `layer '${error.where}'`;
  const checkpointNote =
    outcome.lastCheckpoint === null
      ? 'no checkpoint was written before it'
      : `the last good checkpoint is ${outcome.lastCheckpoint}`;
  return (
    `training stopped: non-finite value ${error.value} in ${site} at epoch ${outcome.epoch}, ` +
    `batch ${outcome.batch}/${outcome.batches}; ${checkpointNote}. Lower the learning rate with --lr, or check the input data`
  );
}

/** Loads the engine and the generator for a fresh run or a resumed one. */
function startState(options: TrainOptions): { state: TrainingState; rng: Rng } {
  const { engine, resume, settings } = options;
  if (resume !== undefined) {
    engine.setWeights(resume.weights);
    engine.setOptimizerState(resume.optimizer);
    const state: TrainingState = {
      ...resume.state,
      history: [...resume.state.history],
      partial: { ...resume.state.partial },
    };
    return { state, rng: Rng.fromState(resume.state.rngState) };
  }

  const rng = new Rng(settings.seed);
  engine.setWeights(initialWeights(engine.network, rng));
  const state: TrainingState = {
    epochsDone: 0,
    batchesDone: 0,
    order: null,
    rngState: rng.getState(),
    best: null,
    history: [],
    partial: emptyProgress(),
    elapsedSeconds: 0,
  };
  return { state, rng };
}

/**
 * Returns the augmentation generator of one epoch, derived from the seed and the epoch alone.
 * Batches are prepared one step ahead, so drawing augmentation from the training generator
 * would make its checkpointed state depend on that look-ahead. `batches` seeds each batch's
 * augmentation from this generator and the batch index, so a resumed epoch matches.
 */
function augmentRng(seed: number, epoch: number): Rng {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ epoch ^ (h >>> 15), 0xc2b2ae35);
  return new Rng((h ^ (h >>> 16)) >>> 0);
}
