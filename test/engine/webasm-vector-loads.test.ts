// WebAssembly vector loads: with snnc's override, a read whose 4 SIMD lanes index 4 consecutive
// elements is one v128.load, its lane-0 index computed with scalar instructions where the index
// is built from such locals, and a read of `base + k` puts k into the load instruction where
// that cannot wrap. Other reads, and reads under a lane-dependent branch, keep gpu.js's per-lane
// loads. Every kernel must compute the same values either way.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setIntegerLocals } from '../../runtime/gpu/webasm-integers';
import { loadCounts, setVectorLoads, type LoadCounts } from '../../runtime/gpu/webasm-vector-loads';

interface Thread {
  thread: { x: number; y: number };
}

const SOURCE = Float32Array.from({ length: 256 }, (_, i) => i * 0.5 + 1);
/** A short array passed before SOURCE, so that SOURCE lies a few bytes into the kernel's memory. */
const PREFIX = Float32Array.from([7, 8, 9]);

type Kernel = (this: Thread, prefix: Float32Array, source: Float32Array) => number;

function difference(after: LoadCounts, before: LoadCounts): LoadCounts {
  return {
    vectorLoads: after.vectorLoads - before.vectorLoads,
    scalarIndices: after.scalarIndices - before.scalarIndices,
    foldedOffsets: after.foldedOffsets - before.foldedOffsets,
  };
}

/** Runs `fn` on a 16x2 grid (rows a multiple of 4, so gpu.js uses SIMD) and counts what the override rewrote. */
async function run(fn: Kernel): Promise<{ values: number[]; counts: LoadCounts }> {
  const before = loadCounts();
  const gpu = new GPU({ mode: 'webasm' });
  try {
    const kernel = gpu.createKernel(fn, { output: [16, 2], asyncMode: true, argumentTypes: { prefix: 'Array', source: 'Array' } });
    const rows = (await kernel(PREFIX, SOURCE)) as Float32Array[];
    return { values: rows.flatMap((row) => Array.from(row)), counts: difference(loadCounts(), before) };
  } finally {
    gpu.destroy();
  }
}

/** Evaluates the kernel in JavaScript, row by row, rounding each value to float32. */
function expected(fn: Kernel): number[] {
  const values: number[] = [];
  for (let y = 0; y < 2; y++) for (let x = 0; x < 16; x++) values.push(Math.fround(fn.call({ thread: { x, y } }, PREFIX, SOURCE)));
  return values;
}

function consecutive(this: Thread, prefix: Float32Array, source: Float32Array): number {
  const row = this.thread.y * 40 + this.thread.x;
  return source[row + 3] + source[row] + prefix[0];
}

function strided(this: Thread, prefix: Float32Array, source: Float32Array): number {
  return source[this.thread.y * 40 + this.thread.x * 2] + prefix[0];
}

function branched(this: Thread, prefix: Float32Array, source: Float32Array): number {
  const row = this.thread.y * 40 + this.thread.x;
  if (this.thread.x > 5) {
    return source[row + 1];
  }
  return prefix[0];
}

/** Lane 0's base is -2 in the first SIMD step, so only base + k lies in the array. */
function shiftedBack(this: Thread, prefix: Float32Array, source: Float32Array): number {
  const left = this.thread.y * 40 + this.thread.x - 2;
  return source[left + 2] + source[left + 3] * 2 + prefix[1];
}

/** Reads that are the same in every lane, at constant offsets from one base. */
function sameInEveryLane(this: Thread, prefix: Float32Array, source: Float32Array): number {
  const row = this.thread.y * 40;
  return source[row + 5] + source[row + 1] * 3 + prefix[2] + this.thread.x;
}

test('override installs on gpu.js', () => {
  assert.is(setIntegerLocals(true), null);
  assert.is(setVectorLoads(true), null);
});

test('override reports missing internals', () => {
  const notice = setVectorLoads(true, { prototype: {} });
  assert.is(
    notice,
    "webasm: vector loads are off because gpu.js's WebAssemblyFunctionNode has no vGather, vEmitIndex, emitIndex, emitFlatLoad, vSetVaryingScalar, vCoerce, getType, getJsAST; " +
      'kernels read 4 consecutive elements with 4 scalar loads, which is slower (gpu.js 2.24.1 supports them)',
  );
  assert.is(setVectorLoads(true), null);
});

test('consecutive reads are vector loads with scalar lane-0 indices', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, counts } = await run(consecutive);
  assert.equal(values, expected(consecutive));
  // gpu.js builds each kernel twice, as scalar code and as SIMD code; row + 3 folds in both.
  assert.equal(counts, { vectorLoads: 2, scalarIndices: 2, foldedOffsets: 2 });
});

test('a base below the array start still reads base + k', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, counts } = await run(shiftedBack);
  assert.equal(values, expected(shiftedBack));
  assert.equal(counts, { vectorLoads: 2, scalarIndices: 2, foldedOffsets: 4 });
});

test('reads that are the same in every lane share their base', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, counts } = await run(sameInEveryLane);
  assert.equal(values, expected(sameInEveryLane));
  assert.equal(counts.vectorLoads, 0);
  assert.ok(counts.foldedOffsets >= 2, `${counts.foldedOffsets} folded offsets`);
});

test('strided reads stay per lane', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, counts } = await run(strided);
  assert.equal(values, expected(strided));
  assert.is(counts.vectorLoads, 0);
});

test('reads under a lane branch stay per lane', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, counts } = await run(branched);
  assert.equal(values, expected(branched));
  assert.is(counts.vectorLoads, 0);
});

test('turned off, no vector loads', async () => {
  assert.is(setVectorLoads(false), null);
  const { values, counts } = await run(consecutive);
  assert.equal(values, expected(consecutive));
  assert.equal(counts, { vectorLoads: 0, scalarIndices: 0, foldedOffsets: 0 });
  assert.is(setVectorLoads(true), null);
});

test.run();
