// Training output: the files of a run directory besides the checkpoints.

import { join } from 'node:path';
import { writeFileAtomic } from './files';
import { confusionSvg, curvesSvg } from './svg';
import type { BestResult, EpochMetrics, RunSettings } from './types';

/** Contents of summary.json. Accuracies are fractions in [0, 1]. */
export interface RunSummary {
  specName: string;
  epochsCompleted: number;
  epochs: number;
  bestAccuracy: number | null;
  bestEpoch: number | null;
  finalAccuracy: number | null;
  /** Wall-clock seconds over every session of the run, resumed ones included. */
  totalSeconds: number;
  /** Training examples per second of batch-loop time over all epochs. */
  imagesPerSecond: number;
  commandLine: string;
}

/** Writes config.json: the resolved settings that produced the run. */
export function writeConfig(runDir: string, config: object): void {
  writeFileAtomic(join(runDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
}

/** Rewrites metrics.jsonl from the whole history, so a resumed run never repeats a line. */
export function writeMetrics(runDir: string, history: EpochMetrics[]): void {
  writeFileAtomic(join(runDir, 'metrics.jsonl'), history.map((entry) => JSON.stringify(entry) + '\n').join(''));
}

export function writeCurves(runDir: string, specName: string, history: EpochMetrics[]): void {
  writeFileAtomic(join(runDir, 'curves.svg'), curvesSvg(history, `${specName}: training curves`));
}

/** Writes confusion.json and confusion.svg for the best epoch. */
export function writeConfusion(runDir: string, specName: string, best: BestResult, classNames: string[]): void {
  const json = { epoch: best.epoch, accuracy: best.accuracy, classNames, rows: 'true class', columns: 'predicted class', matrix: best.confusion };
  writeFileAtomic(join(runDir, 'confusion.json'), JSON.stringify(json, null, 2) + '\n');
  const title = `${specName}: test confusion matrix, epoch ${best.epoch}, accuracy ${(best.accuracy * 100).toFixed(2)}%`;
  writeFileAtomic(join(runDir, 'confusion.svg'), confusionSvg(best.confusion, classNames, title));
}

export function summarise(
  specName: string,
  settings: RunSettings,
  history: EpochMetrics[],
  best: BestResult | null,
  totalSeconds: number,
  commandLine: string,
): RunSummary {
  const trainExamples = history.reduce((sum, entry) => sum + entry.trainExamples, 0);
  const trainSeconds = history.reduce((sum, entry) => sum + entry.trainSeconds, 0);
  return {
    specName,
    epochsCompleted: history.length,
    epochs: settings.epochs,
    bestAccuracy: best?.accuracy ?? null,
    bestEpoch: best?.epoch ?? null,
    finalAccuracy: history.length > 0 ? history[history.length - 1].testAccuracy : null,
    totalSeconds,
    imagesPerSecond: trainSeconds > 0 ? trainExamples / trainSeconds : 0,
    commandLine,
  };
}

export function writeSummary(runDir: string, summary: RunSummary): void {
  writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
}
