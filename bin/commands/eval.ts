// `snnc eval`: measures the test accuracy of a checkpoint and prints its confusion matrix.

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataError } from '../../runtime/data';
import {
  CheckpointError,
  checkCheckpointSpec,
  classNames,
  createProgressReporter,
  evaluate,
  formatConfusion,
  readCheckpoint,
} from '../../runtime/train';
import {
  BACKENDS,
  CommandError,
  consoleOutput,
  defaultDependencies,
  loadNetwork,
  openEngineWithLog,
  optionalInteger,
  optionalPath,
  parseBackend,
  parseFlags,
  singleDirectory,
  type CommandDependencies,
  type CommandOutput,
} from './run';

const HELP = `usage: snnc eval DIR --checkpoint CKPT [options]

Loads the weights of CKPT (a best.ckpt or last.ckpt written by snnc run) into the network
compiled in DIR, measures accuracy on the test set and prints the confusion matrix.

options:
  --checkpoint CKPT  checkpoint to evaluate (required)
  --data DIR         folder with the test files (default: data_path in the spec; MNIST
                     without a folder uses the 2000 held-out embedded digits that
                     snnc run also tests on)
  --backend B        ${BACKENDS.join(', ')} (default auto)
  --batch-size N     examples per forward pass (default: batch_size in the spec)
  --limit-test N     evaluate on the first N test examples only (default all)
  -h, --help         print this help`;

export async function run(argv: string[]): Promise<number> {
  return evalCommand(argv, defaultDependencies, consoleOutput);
}

/** Runs `snnc eval` with the given dependencies and output; returns the exit code. */
export async function evalCommand(argv: string[], dependencies: CommandDependencies, output: CommandOutput): Promise<number> {
  try {
    return await evaluateFromCommandLine(argv, dependencies, output);
  } catch (error) {
    if (error instanceof CommandError) {
      output.error(`snnc eval: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof CheckpointError || error instanceof DataError) {
      output.error(`snnc eval: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function evaluateFromCommandLine(argv: string[], dependencies: CommandDependencies, output: CommandOutput): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    output.log(HELP);
    return 0;
  }
  const { values, positionals } = parseFlags(argv, {
    checkpoint: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
    'batch-size': { type: 'string' },
    'limit-test': { type: 'string' },
  });
  const generatedDir = singleDirectory(positionals, 'eval');
  const checkpointPath = optionalPath(values.checkpoint, '--checkpoint');
  if (checkpointPath === undefined) {
    throw new CommandError('missing --checkpoint CKPT: pass the best.ckpt or last.ckpt of a run directory', 2);
  }
  const dataDir = optionalPath(values.data, '--data');
  const backend = parseBackend(values.backend);
  const batchSizeFlag = optionalInteger(values['batch-size'], '--batch-size', 1);
  const limitTest = optionalInteger(values['limit-test'], '--limit-test', 1);

  const network = await loadNetwork(generatedDir, dependencies);
  const checkpoint = readCheckpoint(checkpointPath);
  checkCheckpointSpec(checkpointPath, checkpoint, network, generatedDir);
  const batchSize = batchSizeFlag ?? network.batchSize;

  if (dataDir !== undefined && !(existsSync(dataDir) && statSync(dataDir).isDirectory())) {
    throw new CommandError(`data folder ${resolve(dataDir)} not found (from --data): pass the folder that holds the test files`);
  }
  const data = await dependencies.openData(network, { dataDir, nSteps: network.nSteps, train: 'skip' });
  output.log(data.description);
  const engine = await openEngineWithLog(generatedDir, backend, batchSize, dependencies, output);

  try {
    engine.setWeights(checkpoint.weights);
    const progress = output.progressStream ? createProgressReporter(output.progressStream) : undefined;
    const total = Math.min(data.test.length, limitTest ?? Infinity);
    progress?.start('test', total, 0);
    const evaluation = await evaluate(engine, data.test, {
      batchSize,
      limit: limitTest ?? null,
      onProgress: (done) => progress?.update(done),
    });
    progress?.stop();
    if (evaluation === null) throw new Error('evaluation stopped without a signal');

    const correct = evaluation.confusion.reduce((sum, row, c) => sum + row[c], 0);
    const epochs = checkpoint.state.epochsDone;
    output.log(
      `checkpoint ${checkpointPath} (spec '${checkpoint.specName}', ${epochs} epoch${epochs === 1 ? '' : 's'} trained)`,
    );
    output.log(`test accuracy ${(evaluation.accuracy * 100).toFixed(2)}% (${correct}/${evaluation.examples})`);
    output.log('');
    output.log(formatConfusion(evaluation.confusion, classNames(network)));
    return 0;
  } finally {
    engine.dispose();
  }
}
