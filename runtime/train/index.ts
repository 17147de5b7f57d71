// Training runtime: the public entry points of the trainer, its checkpoints and reports.

export { train, formatEpochLine, describeNonFinite, type TrainOptions, type TrainOutcome } from './trainer';
export {
  readCheckpoint,
  writeCheckpoint,
  encodeCheckpoint,
  decodeCheckpoint,
  checkCheckpointSpec,
  CheckpointError,
  type Checkpoint,
} from './checkpoint';
export { evaluate, predictClasses, countCorrect, formatConfusion, type Evaluation, type EvaluateOptions } from './evaluate';
export { drawDropoutMasks } from './dropout';
export { writeFileAtomic, probeWritable, describeWriteError, OutputError } from './files';
export { createProgressReporter, formatDuration, type ProgressReporter } from './progress';
export { writeConfig, writeConfusion, writeCurves, writeMetrics, writeSummary, summarise, type RunSummary } from './report';
export { confusionSvg, curvesSvg } from './svg';
export { classNames } from './class-names';
export type { RunSettings, EpochMetrics, BestResult, TrainingState, EpochProgress } from './types';
