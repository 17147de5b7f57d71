// WebAssembly flat results: a kernel marked by returnFlatResults returns its [x, y, z] output as
// one Float32Array in row-major order. An unmarked kernel keeps gpu.js's rows.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flattenRows } from '../../runtime/gpu/engine';
import { returnFlatResults } from '../../runtime/gpu/webasm-flat-results';

interface Thread {
  thread: { x: number; y: number; z: number };
}

function cellIndex(this: Thread): number {
  return this.thread.x + 4 * (this.thread.y + 2 * this.thread.z);
}

const EXPECTED = Array.from({ length: 24 }, (_, index) => index);

async function run(flat: boolean): Promise<unknown> {
  const gpu = new GPU({ mode: 'webasm' });
  try {
    const kernel = gpu.createKernel(cellIndex, { output: [4, 2, 3], asyncMode: true });
    if (flat) assert.ok(returnFlatResults(kernel), 'gpu.js does not allow flat results');
    return await kernel();
  } finally {
    gpu.destroy();
  }
}

test('marked kernel returns one flat array', async () => {
  const result = await run(true);
  assert.instance(result, Float32Array);
  assert.equal(Array.from(result as Float32Array), EXPECTED);
});

test('unmarked kernel returns rows', async () => {
  const result = await run(false);
  assert.ok(Array.isArray(result), 'expected nested rows');
  assert.equal(Array.from(flattenRows(result) as Float32Array), EXPECTED);
});

test('value without a kernel is left alone', () => {
  assert.is(returnFlatResults(() => 0), false);
  assert.is(returnFlatResults(null), false);
});

test.run();
