// Benchmark, snnc side: times training steps or evaluation passes of one compiled network on
// one backend, in a process of its own so that the peak RSS it reports is this run's alone.
//
// usage: node --import tsx bench/snnc-worker.ts --spec SPEC --dir GENERATED_DIR --backend NAME
//          [--batch N] [--steps N] [--warmup N] [--mode train|eval] [--seed N] [--profile 1|0]
// Prints one JSON object (`WorkerResult`) as the last line of stdout. Exit status: 0 measured,
// 3 the backend or the engine is not available yet, 1 the run failed.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { sampleSize, type Network } from '../common/network';
import type { Batch, Engine, TensorMap } from '../runtime/engine';
import type { BackendChoice } from '../runtime/load';
import { Rng } from '../runtime/rng';
import type { KernelProfile, KernelTime } from './results';
import { staticNormalisation } from './workloads';

export interface WorkerResult {
  implementation: 'snnc';
  backend: string;
  mode: 'train' | 'eval';
  batch: number;
  status: 'measured' | 'unavailable' | 'failed';
  /** Reason the run is unavailable or failed. */
  reason?: string;
  images_per_s?: number;
  step_seconds?: number[];
  losses?: number[];
  /** Seconds from the start of the process until the engine was ready. */
  open_seconds?: number;
  peak_rss_mb: number;
  /** Per-kernel times of one training step on a profiling engine; null when not taken. */
  kernel_profile?: KernelProfile | null;
}

interface WorkerArgs {
  spec: string;
  dir: string;
  backend: string;
  batch: number;
  steps: number;
  warmup: number;
  mode: 'train' | 'eval';
  seed: number;
  /** Whether to profile one more training step kernel by kernel after the timed ones. */
  profile: boolean;
}

/** An engine opened with `profile: true`: per-kernel times of the most recent step. */
interface ProfilingEngine extends Engine {
  lastStepProfile?: () => KernelTime[];
}

const processStart = performance.now();

class Unavailable extends Error {}

function parseArgs(argv: string[]): WorkerArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (!key.startsWith('--') || value === undefined) {
      throw new Error(`invalid argument '${key}'; expected --key value pairs (see the usage at the top of bench/snnc-worker.ts)`);
    }
    values.set(key.slice(2), value);
  }
  const required = (key: string): string => {
    const value = values.get(key);
    if (value === undefined) throw new Error(`missing --${key}`);
    return value;
  };
  const integer = (key: string, fallback: number, min: number): number => {
    const text = values.get(key);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${key} is '${text}'; expected an integer of at least ${min}`);
    return value;
  };
  const mode = values.get('mode') ?? 'train';
  if (mode !== 'train' && mode !== 'eval') throw new Error(`--mode is '${mode}'; expected train or eval`);
  return {
    spec: required('spec'),
    dir: required('dir'),
    backend: required('backend'),
    batch: integer('batch', 50, 1),
    steps: integer('steps', 3, 1),
    warmup: integer('warmup', 1, 0),
    mode,
    seed: integer('seed', 1, 0),
    profile: integer('profile', 1, 0) === 1,
  };
}

const BACKENDS: BackendChoice[] = ['auto', 'cpu', 'webasm', 'headlessgl', 'webgpu', 'webgl2', 'reference'];

function isBackendChoice(name: string): name is BackendChoice {
  return (BACKENDS as string[]).includes(name);
}

/** Opens the engine: the reference engine from the spec, or a compiled network through `openEngine`. */
async function openBenchEngine(args: WorkerArgs, profile: boolean): Promise<Engine> {
  if (args.backend === 'reference') {
    const { loadSpec } = await import('../compiler/frontend/index');
    const { createReferenceEngine } = await import('../runtime/reference/index');
    return createReferenceEngine(loadSpec(args.spec).network, { seed: args.seed });
  }

  if (!existsSync(path.join(args.dir, 'manifest.json'))) {
    throw new Unavailable(`no manifest.json in ${args.dir}, so the spec did not compile (see the compile step)`);
  }
  if (!isBackendChoice(args.backend)) {
    throw new Unavailable(`'${args.backend}' is not a backend openEngine accepts; use one of ${BACKENDS.join(', ')}`);
  }
  const { openEngine } = await import('../runtime/load');
  try {
    return await openEngine(args.dir, { backend: args.backend, batchSize: args.batch, profile });
  } catch (error) {
    // runtime/gpu/backends.ts raises BackendUnavailableError for a backend that cannot load here.
    if ((error as Error).name === 'BackendUnavailableError') throw new Unavailable((error as Error).message);
    throw error;
  }
}

/** Random batch: uniform pixels normalised like the dataset (static input), or sparse events. */
function randomBatch(network: Network, size: number, rng: Rng): Batch {
  const perSample = sampleSize(network.inputShape);
  const labels = new Int32Array(size);
  for (let n = 0; n < size; n++) labels[n] = rng.integer(network.nClass);

  if (network.inputEncoding === 'events') {
    const input = new Float32Array(size * perSample * network.nSteps);
    for (let i = 0; i < input.length; i++) input[i] = rng.uniform() < 0.1 ? 1 : 0;
    return { size, input, labels };
  }

  const [channels, height, width] = network.inputShape;
  const { mean, std } = staticNormalisation(channels);
  const input = new Float32Array(size * perSample);
  for (let n = 0; n < size; n++) {
    for (let c = 0; c < channels; c++) {
      const offset = (n * channels + c) * height * width;
      for (let i = 0; i < height * width; i++) input[offset + i] = (rng.uniform() - mean[c]) / std[c];
    }
  }
  return { size, input, labels };
}

/** One Bernoulli mask per dropout layer, as a training step of `snnc run` draws them. */
function dropoutMasks(network: Network, size: number, rng: Rng): TensorMap | undefined {
  let masks: TensorMap | undefined;
  for (const layer of network.layers) {
    if (layer.type !== 'dropout') continue;
    const mask = new Float32Array(size * sampleSize(layer.inShape));
    const kept = 1 / (1 - layer.p);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < layer.p ? 0 : kept;
    masks ??= {};
    masks[layer.name] = mask;
  }
  return masks;
}

function peakRssMb(): number {
  // maxRSS is in kilobytes.
  return process.resourceUsage().maxRSS / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Times each kernel of one training step on a second engine opened with `profile: true`, after
 * one untimed step that builds its kernels. Such an engine runs kernel by kernel without gpu.js
 * pipelines, so its step is slower than the timed ones. Returns null when the engine has no profile.
 */
async function profileStep(args: WorkerArgs, batch: Batch, rng: Rng): Promise<KernelProfile | null> {
  if (args.backend === 'reference') return null;
  const engine = (await openBenchEngine(args, true)) as ProfilingEngine;
  try {
    if (typeof engine.lastStepProfile !== 'function') return null;
    const lr = engine.network.lr;
    await engine.trainStep(batch, lr, { dropoutMasks: dropoutMasks(engine.network, batch.size, rng) });
    const start = performance.now();
    await engine.trainStep(batch, lr, { dropoutMasks: dropoutMasks(engine.network, batch.size, rng) });
    const stepMs = performance.now() - start;
    return { source: 'lastStepProfile() of an engine opened with profile: true', step_ms: stepMs, kernels: engine.lastStepProfile() };
  } finally {
    engine.dispose();
  }
}

async function measure(args: WorkerArgs): Promise<WorkerResult> {
  const engine = await openBenchEngine(args, false);
  const openSeconds = (performance.now() - processStart) / 1000;
  const network = engine.network;
  const rng = new Rng(args.seed + 1);
  const batch = randomBatch(network, args.batch, rng);
  const lr = network.lr;

  const stepSeconds: number[] = [];
  const losses: number[] = [];
  for (let step = 0; step < args.warmup + args.steps; step++) {
    const start = performance.now();
    if (args.mode === 'train') {
      const result = await engine.trainStep(batch, lr, { dropoutMasks: dropoutMasks(network, args.batch, rng) });
      losses.push(result.loss);
    } else {
      await engine.forward(batch);
    }
    const seconds = (performance.now() - start) / 1000;
    if (step >= args.warmup) stepSeconds.push(seconds);
  }
  engine.dispose();
  // Read the peak RSS before the profiling engine adds its own buffers.
  const peakRss = peakRssMb();

  const kernelProfile = args.mode === 'train' && args.profile ? await profileStep(args, batch, rng) : null;

  return {
    implementation: 'snnc',
    backend: args.backend,
    mode: args.mode,
    batch: args.batch,
    status: 'measured',
    images_per_s: args.batch / median(stepSeconds),
    step_seconds: stepSeconds,
    losses: args.mode === 'train' ? losses : undefined,
    open_seconds: openSeconds,
    peak_rss_mb: peakRss,
    kernel_profile: kernelProfile,
  };
}

async function main(): Promise<number> {
  let args: WorkerArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`snnc-worker: ${(error as Error).message}`);
    return 2;
  }

  const base = { implementation: 'snnc' as const, backend: args.backend, mode: args.mode, batch: args.batch };
  try {
    const result = await measure(args);
    console.log(JSON.stringify(result));
    return 0;
  } catch (error) {
    const unavailable = error instanceof Unavailable;
    const reason = unavailable ? (error as Error).message : String((error as Error).stack ?? error);
    const result: WorkerResult = { ...base, status: unavailable ? 'unavailable' : 'failed', reason, peak_rss_mb: peakRssMb() };
    console.log(JSON.stringify(result));
    return unavailable ? 3 : 1;
  }
}

process.exitCode = await main();
