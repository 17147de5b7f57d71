// WebAssembly vector loads: with snnc's override, a read whose 4 SIMD lanes index 4 consecutive
// elements is one v128.load. Other reads, and reads under a lane-dependent branch, keep gpu.js's
// per-lane loads. Every kernel must compute the same values either way.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setIntegerLocals } from '../../runtime/gpu/webasm-integers';
import { setVectorLoads, vectorLoadsEmitted } from '../../runtime/gpu/webasm-vector-loads';

interface Thread {
  thread: { x: number; y: number };
}

const SOURCE = Float32Array.from({ length: 256 }, (_, i) => i * 0.5 + 1);

/** Runs `fn` on a 16x2 grid (rows a multiple of 4, so gpu.js uses SIMD) and counts the vector loads it built. */
async function run(fn: (this: Thread, source: Float32Array) => number): Promise<{ values: number[]; vectorLoads: number }> {
  const before = vectorLoadsEmitted();
  const gpu = new GPU({ mode: 'webasm' });
  try {
    const kernel = gpu.createKernel(fn, { output: [16, 2], asyncMode: true, argumentTypes: { source: 'Array' } });
    const rows = (await kernel(SOURCE)) as Float32Array[];
    return { values: rows.flatMap((row) => Array.from(row)), vectorLoads: vectorLoadsEmitted() - before };
  } finally {
    gpu.destroy();
  }
}

/** Evaluates the kernel in JavaScript, row by row, rounding each value to float32. */
function expected(fn: (this: Thread, source: Float32Array) => number): number[] {
  const values: number[] = [];
  for (let y = 0; y < 2; y++) for (let x = 0; x < 16; x++) values.push(Math.fround(fn.call({ thread: { x, y } }, SOURCE)));
  return values;
}

function consecutive(this: Thread, source: Float32Array): number {
  const row = this.thread.y * 40 + this.thread.x;
  return source[row + 3] + source[row];
}

function strided(this: Thread, source: Float32Array): number {
  return source[this.thread.y * 40 + this.thread.x * 2];
}

function branched(this: Thread, source: Float32Array): number {
  const row = this.thread.y * 40 + this.thread.x;
  if (this.thread.x > 5) {
    return source[row + 1];
  }
  return 0;
}

test('override installs on gpu.js', () => {
  assert.is(setIntegerLocals(true), null);
  assert.is(setVectorLoads(true), null);
});

test('override reports missing internals', () => {
  const notice = setVectorLoads(true, { prototype: {} });
  assert.is(
    notice,
    "webasm: vector loads are off because gpu.js's WebAssemblyFunctionNode has no vGather, vEmitIndex, vCoerce, getType, getJsAST; " +
      'kernels read 4 consecutive elements with 4 scalar loads, which is slower (gpu.js 2.24.1 supports them)',
  );
  assert.is(setVectorLoads(true), null);
});

test('consecutive reads are vector loads', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, vectorLoads } = await run(consecutive);
  assert.equal(values, expected(consecutive));
  assert.is(vectorLoads, 2);
});

test('strided reads stay per lane', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, vectorLoads } = await run(strided);
  assert.equal(values, expected(strided));
  assert.is(vectorLoads, 0);
});

test('reads under a lane branch stay per lane', async () => {
  assert.is(setVectorLoads(true), null);
  const { values, vectorLoads } = await run(branched);
  assert.equal(values, expected(branched));
  assert.is(vectorLoads, 0);
});

test('turned off, no vector loads', async () => {
  assert.is(setVectorLoads(false), null);
  const { values, vectorLoads } = await run(consecutive);
  assert.equal(values, expected(consecutive));
  assert.is(vectorLoads, 0);
  assert.is(setVectorLoads(true), null);
});

test.run();
