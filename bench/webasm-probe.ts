// Benchmark, webasm probe: times the compiled conv_2 kernels of specs/mnist.yaml on gpu.js's
// webasm backend, with gpu.js's float index arithmetic and with snnc's integer locals. It then
// times hand-written rewrites and checks that every version computes the same values.
//
// usage: npm run bench:probe [-- --calls N] [--density D]

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { compileInMemory } from '../compiler/compile';
import { loadSpec } from '../compiler/frontend';
import type { ManifestKernel } from '../common/manifest';
import { flattenRows } from '../runtime/gpu/engine';
import { setIntegerLocals } from '../runtime/gpu/webasm-integers';
import { setVectorLoads } from '../runtime/gpu/webasm-vector-loads';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { GPU } = require('gpu.js') as { GPU: new (settings: { mode: string }) => GpuInstance };

/** The part of gpu.js's `this` that the kernel functions read. */
interface ProbeThread {
  thread: { x: number; y: number; z: number };
}

interface GpuInstance {
  createKernel(fn: unknown, settings: Record<string, unknown>): (...args: unknown[]) => Promise<unknown>;
  destroy(): void;
}

const USAGE = `usage: npm run bench:probe -- [--calls N] [--density D]

Times the compiled conv_2 forward, weight-gradient and input-gradient kernels of
specs/mnist.yaml at batch 50 on gpu.js's webasm backend, once with gpu.js's float index
arithmetic and once with the integer locals snnc installs, then hand-written rewrites of
each (with integer locals), on random values. Prints the median time of N calls (a whole
number, default 3) after one untimed call, and the largest difference from the compiled
kernel relative to the largest value.
--density D sets the share of non-zero input PSP values (default 0.19, measured on a trained
MNIST network). The machine should be otherwise idle.`;

// Shapes of conv_2 in specs/mnist.yaml; the rewrites below are written for them.
const N = 50;
const T = 5;
const CIN = 15;
const COUT = 40;
const IN = 12;
const OUT = 8;
const K = 5;
const TAPS = K * K;

/** A rewrite: its kernel function, thread grid, and where it puts value `i` of the compiled layout. */
interface Variant {
  kernel: 'conv_2_forward' | 'conv_2_weight_grad' | 'conv_2_input_grad';
  name: string;
  fn: unknown;
  output: number[];
  returnType?: string;
  /** Index into the rewrite's flat result of the compiled kernel's flat index `i`. */
  place: (i: number) => number;
}

class ProbeUsageError extends Error {}

function options(argv: string[]): { calls: number; density: number } {
  let calls = 3;
  let density = 0.19;
  for (let i = 0; i < argv.length; i += 2) {
    const text = argv[i + 1];
    const value = Number(text);
    if (argv[i] === '--calls') {
      if (!Number.isInteger(value) || value < 1) throw new ProbeUsageError(`--calls is '${text ?? ''}'; give a whole number of at least 1, such as 5`);
      calls = value;
    } else if (argv[i] === '--density') {
      if (!(value > 0 && value <= 1)) throw new ProbeUsageError(`--density is '${text ?? ''}'; give a share above 0 and at most 1, such as 0.19`);
      density = value;
    } else {
      throw new ProbeUsageError(`unknown option '${argv[i]}'; the options are --calls and --density`);
    }
  }
  return { calls, density };
}

/** Deterministic values in [-0.5, 0.5), zero with probability 1 - density. */
function values(count: number, density: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let i = 0; i < count; i++) out[i] = next() < density ? next() - 0.5 : 0;
  return out;
}

/** Flattens what a gpu.js kernel returns (nested rows of Float32Array) into one array. */
function flatten(value: unknown): Float32Array {
  const flat = flattenRows(value);
  return flat instanceof Float32Array ? flat : Float32Array.from(flat as ArrayLike<number>);
}

function compiledKernels(): Map<string, ManifestKernel> {
  // loadSpec throws a SpecError listing every problem when the spec does not compile
  const { network } = loadSpec(path.join(repoRoot, 'specs', 'mnist.yaml'));
  const conv = network.layers.find((layer) => layer.name === 'conv_2');
  const shape = conv === undefined ? '' : `${conv.inShape.join('x')} -> ${conv.outShape.join('x')}`;
  if (shape !== `${CIN}x${IN}x${IN} -> ${COUT}x${OUT}x${OUT}` || network.nSteps !== T) {
    throw new Error(`the probe's rewrites are written for conv_2 of ${CIN}x${IN}x${IN} -> ${COUT}x${OUT}x${OUT} at T ${T}, but specs/mnist.yaml has ${shape || 'no conv_2'} at T ${network.nSteps}`);
  }
  const manifest = compileInMemory(network).manifest;
  return new Map(manifest.kernels.map((kernel) => [kernel.name, kernel]));
}

// ---------------------------------------------------------------------------- rewrites

/** Weight gradient with the 4 SIMD lanes on output channels: the PSP read is the same for all 4. */
function weightGradChannelLanes(this: ProbeThread, grad: Float32Array, source: Float32Array): number {
  const co = this.thread.x;
  const tap = this.thread.y;
  const ci = this.thread.z;
  const ky = Math.floor(tap / 5);
  const kx = tap - ky * 5;
  let sum = 0.0;
  for (let n = 0; n < 50; n++) {
    const gradPlane = (n * 40 + co) * 320;
    const sourcePlane = ((n * 15 + ci) * 12 + ky) * 60 + kx * 5;
    for (let oy = 0; oy < 8; oy++) {
      for (let ox = 0; ox < 8; ox++) {
        const g = gradPlane + oy * 40 + ox * 5;
        const s = sourcePlane + oy * 60 + ox * 5;
        sum += grad[g] * source[s];
        sum += grad[g + 1] * source[s + 1];
        sum += grad[g + 2] * source[s + 2];
        sum += grad[g + 3] * source[s + 3];
        sum += grad[g + 4] * source[s + 4];
      }
    }
  }
  return sum;
}

/** Weight gradient for 4 input channels per thread, so each gradient read serves 4 sums. */
function weightGradFourChannels(this: ProbeThread, grad: Float32Array, source: Float32Array): number[] {
  const co = this.thread.x;
  const tap = this.thread.y;
  const group = this.thread.z;
  const ky = Math.floor(tap / 5);
  const kx = tap - ky * 5;

  const c0 = Math.min(group * 4, 14) * 720;
  const c1 = Math.min(group * 4 + 1, 14) * 720;
  const c2 = Math.min(group * 4 + 2, 14) * 720;
  const c3 = Math.min(group * 4 + 3, 14) * 720;
  let s0 = 0.0;
  let s1 = 0.0;
  let s2 = 0.0;
  let s3 = 0.0;

  for (let n = 0; n < 50; n++) {
    const gradPlane = (n * 40 + co) * 320;
    const sample = n * 10800 + ky * 60 + kx * 5;
    for (let oy = 0; oy < 8; oy++) {
      for (let ox = 0; ox < 8; ox++) {
        const g = gradPlane + oy * 40 + ox * 5;
        const s = sample + oy * 60 + ox * 5;
        for (let t = 0; t < 5; t++) {
          const value = grad[g + t];
          s0 += value * source[s + c0 + t];
          s1 += value * source[s + c1 + t];
          s2 += value * source[s + c2 + t];
          s3 += value * source[s + c3 + t];
        }
      }
    }
  }
  return [s0, s1, s2, s3];
}

/**
 * Forward with the 4 SIMD lanes on output channels: the PSP read is the same for all 4, so a
 * zero PSP skips its weight reads through a real branch. Writes `[n, oy, ox, t, co]`.
 */
function forwardChannelLanesSkipZero(this: ProbeThread, source: Float32Array, weights: Float32Array): number {
  const co = this.thread.x;
  const ox = Math.floor(this.thread.y / 5);
  const t = this.thread.y - ox * 5;
  const n = Math.floor(this.thread.z / 8);
  const oy = this.thread.z - n * 8;
  const sample = n * 10800 + ox * 5 + t;
  const weightOut = co * 375;
  let sum = 0.0;
  for (let ci = 0; ci < 15; ci++) {
    for (let ky = 0; ky < 5; ky++) {
      const row = sample + ci * 720 + (oy + ky) * 60;
      const weightRow = weightOut + ci * 25 + ky * 5;
      for (let kx = 0; kx < 5; kx++) {
        const value = source[row + kx * 5];
        if (value !== 0) {
          sum += weights[weightRow + kx] * value;
        }
      }
    }
  }
  return sum;
}

/** Splits a compiled flat index into digits of the given sizes, slowest first. */
function digits(i: number, sizes: number[]): number[] {
  const out = new Array<number>(sizes.length);
  for (let d = sizes.length - 1; d >= 0; d--) {
    out[d] = i % sizes[d];
    i = Math.floor(i / sizes[d]);
  }
  return out;
}

const VARIANTS: Variant[] = [
  {
    kernel: 'conv_2_weight_grad',
    name: 'lanes on output channels (one lane-varying read per term instead of two)',
    fn: weightGradChannelLanes,
    output: [COUT, TAPS, CIN],
    place: (i) => {
      const [co, ci, tap] = digits(i, [COUT, CIN, TAPS]);
      return (ci * TAPS + tap) * COUT + co;
    },
  },
  {
    kernel: 'conv_2_weight_grad',
    name: '4 input channels per thread (Array(4) result)',
    fn: weightGradFourChannels,
    output: [COUT, TAPS, 4],
    returnType: 'Array(4)',
    place: (i) => {
      const [co, ci, tap] = digits(i, [COUT, CIN, TAPS]);
      return ((((ci >> 2) * TAPS + tap) * COUT + co) << 2) + (ci & 3);
    },
  },
  {
    kernel: 'conv_2_forward',
    name: 'lanes on output channels, zero PSPs skipped by a uniform branch',
    fn: forwardChannelLanesSkipZero,
    output: [COUT, OUT * T, N * OUT],
    place: (i) => {
      const [n, co, oy, x] = digits(i, [N, COUT, OUT, OUT * T]);
      return ((n * OUT + oy) * OUT * T + x) * COUT + co;
    },
  },
];

const SETTINGS = {
  constants: { batch: N },
  asyncMode: true,
  precision: 'single',
  tactic: 'precision',
  loopMaxIterations: 1 << 20,
};

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

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let parsed: { calls: number; density: number };
  try {
    parsed = options(argv);
  } catch (error) {
    if (!(error instanceof ProbeUsageError)) throw error;
    console.error(`webasm probe: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  const kernels = compiledKernels();
  const psp = values(N * CIN * IN * IN * T, parsed.density, 1);
  const grad = values(N * COUT * OUT * OUT * T, 1, 2);
  const weights = values(COUT * CIN * TAPS, 1, 3);
  const inputs: Record<Variant['kernel'], Float32Array[]> = {
    conv_2_forward: [psp, weights],
    conv_2_weight_grad: [grad, psp],
    conv_2_input_grad: [grad, weights],
  };

  const gpu = new GPU({ mode: 'webasm' });
  try {
    console.log(`gpu.js webasm, batch ${N}, ${parsed.calls} timed call(s) per kernel, input PSPs ${(100 * parsed.density).toFixed(0)}% non-zero\n`);
    console.log('| kernel | version | ms (median) | largest difference / largest value |');
    console.log('|---|---|---|---|');
    for (const name of ['conv_2_forward', 'conv_2_weight_grad', 'conv_2_input_grad'] as const) {
      const compiled = kernels.get(name);
      if (compiled === undefined) throw new Error(`specs/mnist.yaml compiled without a ${name} kernel`);
      const size = compiled.output.perSample * N + compiled.output.fixed;
      const grid = compiled.output.grid;
      const output = grid === undefined ? [size] : [grid[0], grid[1], size / (grid[0] * grid[1])];
      const fn = new Function(`return ${compiled.source}`)();
      const argumentTypes = Object.fromEntries(compiled.args.map((arg) => [arg.name, 'Array']));
      // gpu.js builds a kernel on its first call, so each setting must hold until timeCalls has run.
      setIntegerLocals(false);
      setVectorLoads(false);
      const floatIndices = gpu.createKernel(fn, { ...SETTINGS, output, argumentTypes });
      const plain = await timeCalls(() => floatIndices(...inputs[name]), parsed.calls);
      console.log(`| ${name} | compiled, gpu.js's float index arithmetic | ${plain.ms.toFixed(1)} | – |`);
      const notice = setIntegerLocals(true);
      if (notice !== null) throw new Error(notice);
      const baseline = gpu.createKernel(fn, { ...SETTINGS, output, argumentTypes });
      const reference = await timeCalls(() => baseline(...inputs[name]), parsed.calls);
      let largest = 0;
      for (const value of plain.result) largest = Math.max(largest, Math.abs(value));
      let baselineDifference = 0;
      for (let i = 0; i < plain.result.length; i++) baselineDifference = Math.max(baselineDifference, Math.abs(reference.result[i] - plain.result[i]));
      console.log(`| ${name} | compiled, integer locals | ${reference.ms.toFixed(1)} | ${(baselineDifference / (largest || 1)).toExponential(1)} |`);
      const vectorNotice = setVectorLoads(true);
      if (vectorNotice !== null) throw new Error(vectorNotice);
      const vectorKernel = gpu.createKernel(fn, { ...SETTINGS, output, argumentTypes });
      const vectorTimed = await timeCalls(() => vectorKernel(...inputs[name]), parsed.calls);
      let vectorDifference = 0;
      for (let i = 0; i < plain.result.length; i++) vectorDifference = Math.max(vectorDifference, Math.abs(vectorTimed.result[i] - plain.result[i]));
      console.log(`| ${name} | compiled, integer locals and vector loads (as snnc runs it) | ${vectorTimed.ms.toFixed(1)} | ${(vectorDifference / (largest || 1)).toExponential(1)} |`);
      setVectorLoads(false);

      for (const variant of VARIANTS.filter((v) => v.kernel === name)) {
        const kernel = gpu.createKernel(variant.fn, { ...SETTINGS, output: variant.output, ...(variant.returnType ? { returnType: variant.returnType } : {}) });
        const timed = await timeCalls(() => kernel(...inputs[name]), parsed.calls);
        let difference = 0;
        for (let i = 0; i < reference.result.length; i++) {
          difference = Math.max(difference, Math.abs(timed.result[variant.place(i)] - reference.result[i]));
        }
        const relative = difference / (largest || 1);
        console.log(`| ${name} | ${variant.name} | ${timed.ms.toFixed(1)} | ${relative.toExponential(1)}${relative > 1e-4 ? ' (WRONG)' : ''} |`);
      }
    }
  } finally {
    gpu.destroy();
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
