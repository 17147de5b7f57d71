// Benchmark, webasm probe: times each kernel of one training step of specs/mnist.yaml on
// gpu.js's webasm backend in three code-generation settings. The first is gpu.js's own code:
// float index arithmetic, and 4 scalar loads for a read that differs across the lanes. The
// second adds snnc's integer locals, and the third vector loads too, as snnc runs. The probe
// also checks that the three compute the same values.
//
// usage: npm run bench:probe [-- --calls N] [--density D] [--kernels NAME,NAME]

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { compileInMemory } from '../compiler/compile';
import { loadSpec } from '../compiler/frontend';
import type { Manifest, ManifestKernel } from '../common/manifest';
import { flattenRows } from '../runtime/gpu/engine';
import { setIntegerLocals } from '../runtime/gpu/webasm-integers';
import { returnFlatResults } from '../runtime/gpu/webasm-flat-results';
import { setVectorLoads } from '../runtime/gpu/webasm-vector-loads';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { GPU } = require('gpu.js') as { GPU: new (settings: { mode: string }) => GpuInstance };

interface GpuInstance {
  createKernel(fn: unknown, settings: Record<string, unknown>): (...args: unknown[]) => Promise<unknown>;
  destroy(): void;
}

const USAGE = `usage: npm run bench:probe -- [--calls N] [--density D] [--kernels NAME,NAME]

Times the kernels of one training step of specs/mnist.yaml at batch 50 on gpu.js's webasm
backend, on random values, in three settings: gpu.js's own code (float index arithmetic,
4 scalar loads for a read that differs across the SIMD lanes), with snnc's integer locals,
and with integer locals and vector loads, as snnc runs them. Prints the median time of N
calls (a whole number, default 3) after one untimed call, and the largest difference
between the settings relative to the largest value; exits with 1 when a kernel differs.
--density D sets the share of non-zero input values (default 0.19, the share of non-zero
PSPs into conv_2 measured on a trained MNIST network).
--kernels limits the table to the named kernels (default: every kernel of the step).
The machine should be otherwise idle.`;

const BATCH = 50;

const SETTINGS = {
  constants: { batch: BATCH },
  asyncMode: true,
  precision: 'single',
  tactic: 'precision',
  loopMaxIterations: 1 << 20,
};

interface ProbeOptions {
  calls: number;
  density: number;
  kernels: string[] | null;
}

class ProbeUsageError extends Error {}

function options(argv: string[]): ProbeOptions {
  const parsed: ProbeOptions = { calls: 3, density: 0.19, kernels: null };
  for (let i = 0; i < argv.length; i += 2) {
    const text = argv[i + 1];
    const value = Number(text);
    if (argv[i] === '--calls') {
      if (!Number.isInteger(value) || value < 1) throw new ProbeUsageError(`--calls is '${text ?? ''}'; give a whole number of at least 1, such as 5`);
      parsed.calls = value;
    } else if (argv[i] === '--density') {
      if (!(value > 0 && value <= 1)) throw new ProbeUsageError(`--density is '${text ?? ''}'; give a share above 0 and at most 1, such as 0.19`);
      parsed.density = value;
    } else if (argv[i] === '--kernels') {
      if (text === undefined || text === '') throw new ProbeUsageError("--kernels is ''; give kernel names separated by commas, such as conv_2_forward,FC_1_forward");
      parsed.kernels = text.split(',');
    } else {
      throw new ProbeUsageError(`unknown option '${argv[i]}'; the options are --calls, --density and --kernels`);
    }
  }
  return parsed;
}

/** Deterministic values in [0, 1), zero with probability 1 - density (non-negative, so AdamW's second moments are valid). */
function values(count: number, density: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let i = 0; i < count; i++) out[i] = next() < density ? next() : 0;
  return out;
}

/** Flattens what a gpu.js kernel returns (nested rows of Float32Array) into one array. */
function flatten(value: unknown): Float32Array {
  const flat = flattenRows(value);
  return flat instanceof Float32Array ? flat : Float32Array.from(flat as ArrayLike<number>);
}

/** Compiles specs/mnist.yaml and returns its manifest and the training step's kernels in schedule order. */
function trainingKernels(): { manifest: Manifest; kernels: ManifestKernel[] } {
  // loadSpec throws a SpecError listing every problem when the spec does not compile
  const { network } = loadSpec(path.join(repoRoot, 'specs', 'mnist.yaml'));
  const manifest = compileInMemory(network).manifest as Manifest;
  const byName = new Map(manifest.kernels.map((kernel) => [kernel.name, kernel]));
  const names = [...manifest.schedule.forward, ...manifest.schedule.backward, ...manifest.schedule.optimizer];
  const kernels = names.map((name) => byName.get(name)).filter((kernel): kernel is ManifestKernel => kernel !== undefined);
  return { manifest, kernels };
}

/** Draws random arguments of the sizes the manifest gives at the probe's batch; scalars are 1. */
function kernelArguments(manifest: Manifest, kernel: ManifestKernel, density: number, seed: number): unknown[] {
  return kernel.args.map((arg, index) => {
    const buffer = manifest.buffers.find((candidate) => candidate.name === arg.buffer);
    if (buffer === undefined) return 1;
    return values(buffer.perSample * BATCH + buffer.fixed, density, seed + index);
  });
}

async function timeCalls(run: () => Promise<unknown>, calls: number): Promise<{ ms: number; result: Float32Array }> {
  let result = flatten(await run());
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    result = flatten(await run());
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], result };
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  let largest = 0;
  let difference = 0;
  for (let i = 0; i < a.length; i++) {
    largest = Math.max(largest, Math.abs(a[i]));
    difference = Math.max(difference, Math.abs(a[i] - b[i]));
  }
  return difference / (largest || 1);
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let parsed: ProbeOptions;
  const { manifest, kernels } = trainingKernels();
  let selected = kernels;
  try {
    parsed = options(argv);
    if (parsed.kernels !== null) {
      const unknown = parsed.kernels.filter((name) => !kernels.some((kernel) => kernel.name === name));
      if (unknown.length > 0) {
        throw new ProbeUsageError(`--kernels names ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is not a kernel' : 'are not kernels'} of the training step; the kernels are ${kernels.map((kernel) => kernel.name).join(', ')}`);
      }
      selected = kernels.filter((kernel) => parsed.kernels!.includes(kernel.name));
    }
  } catch (error) {
    if (!(error instanceof ProbeUsageError)) throw error;
    console.error(`webasm probe: ${error.message}\n\n${USAGE}`);
    return 2;
  }

  const gpu = new GPU({ mode: 'webasm' });
  const totals = [0, 0, 0];
  const different: string[] = [];
  try {
    console.log(`gpu.js webasm, specs/mnist.yaml, batch ${BATCH}, ${parsed.calls} timed call(s) per kernel, inputs ${(100 * parsed.density).toFixed(0)}% non-zero\n`);
    console.log("| kernel | gpu.js's code, ms | integer locals, ms | integer locals and vector loads, ms | largest difference / largest value |");
    console.log('|---|---|---|---|---|');
    for (const [index, kernel] of selected.entries()) {
      const fn = new Function(`return ${kernel.source}`)();
      const size = kernel.output.perSample * BATCH + kernel.output.fixed;
      const grid = kernel.output.grid;
      const output = grid === undefined ? [size] : [grid[0], grid[1], size / (grid[0] * grid[1])];
      const argumentTypes = Object.fromEntries(kernel.args.map((arg) => [arg.name, arg.buffer !== undefined ? 'Array' : 'Float']));
      const args = kernelArguments(manifest, kernel, parsed.density, 1 + 16 * index);
      const timed: { ms: number; result: Float32Array }[] = [];
      // gpu.js builds a kernel on its first call, so each setting must hold until timeCalls has run.
      for (const [integers, vectors] of [[false, false], [true, false], [true, true]]) {
        for (const notice of [setIntegerLocals(integers), setVectorLoads(vectors)]) if (notice !== null) throw new Error(notice);
        const built = gpu.createKernel(fn, { ...SETTINGS, output, argumentTypes });
        // As in the engine: rows of 4 cells would cost more to build than some kernels take to run.
        returnFlatResults(built);
        timed.push(await timeCalls(() => built(...args), parsed.calls));
      }
      timed.forEach((entry, setting) => (totals[setting] += entry.ms));
      const difference = Math.max(largestDifference(timed[0].result, timed[1].result), largestDifference(timed[0].result, timed[2].result));
      if (!(difference <= 1e-4)) different.push(kernel.name);
      console.log(`| ${kernel.name} | ${timed.map((entry) => entry.ms.toFixed(1)).join(' | ')} | ${difference.toExponential(1)}${difference <= 1e-4 ? '' : ' (DIFFERENT)'} |`);
    }
    console.log(`| all listed | ${totals.map((ms) => ms.toFixed(1)).join(' | ')} | |`);
  } finally {
    gpu.destroy();
  }
  if (different.length > 0) {
    console.error(`webasm probe: ${different.join(', ')} computed different values in the three settings, so a code-generation override is wrong for them; rerun with --kernels and those names to see the differences`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`webasm probe: ${(error as Error).message}`);
    process.exit(1);
  },
);
