// WebAssembly integer locals: with snnc's override, gpu.js's webasm backend keeps a local
// declared from an integer expression as an i32, so array indices above 2^24, where f32
// stops holding every integer, still read the right element.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setIntegerLocals } from '../../runtime/gpu/webasm-integers';

const FIRST_INEXACT = 1 << 24;

test('the override installs on this gpu.js', () => {
  assert.is(setIntegerLocals(true), null);
});

test('webasm kernels read elements above 2^24 at their exact index', async () => {
  assert.is(setIntegerLocals(true), null);
  const values = new Float32Array(FIRST_INEXACT + 16);
  for (let i = 0; i < 16; i++) values[FIRST_INEXACT + i] = i + 1;
  const gpu = new GPU({ mode: 'webasm' });
  try {
    // base + 1 is odd and above 2^24 for every thread: an f32 index would round it to an even neighbour.
    const kernel = gpu.createKernel(
      function (this: { thread: { x: number } }, source: Float32Array): number {
        const base = this.thread.x * 2 + 16777216;
        return source[base + 1];
      },
      { output: [8], asyncMode: true, argumentTypes: { source: 'Array' } },
    );
    const result = Array.from((await kernel(values)) as Float32Array);
    assert.equal(result, [2, 4, 6, 8, 10, 12, 14, 16]);
  } finally {
    gpu.destroy();
  }
});

test.run();
