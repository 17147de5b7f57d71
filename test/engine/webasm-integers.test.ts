// WebAssembly integer locals: with snnc's override, gpu.js's webasm backend declares integer
// locals as i32. Indices above 2^24, where f32 skips odd integers, then read the right element.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setIntegerLocals } from '../../runtime/gpu/webasm-integers';

const FIRST_INEXACT = 1 << 24;

test('override installs on gpu.js', () => {
  assert.is(setIntegerLocals(true), null);
});

test('override reports missing internals', () => {
  const notice = setIntegerLocals(true, { prototype: {} });
  assert.is(
    notice,
    'webasm: integer index arithmetic is off because gpu.js\'s WebAssemblyFunctionNode has no stmtVariableDeclaration, vDeclareVarying, ' +
      'getType, getDeclaration, isThreadDependent, setScalarLocal, vSetVaryingScalar, castLiteralToInteger, vCastLiteralToInteger, ' +
      'coerce, vCoerce, expression, vexpr; kernels run as gpu.js builds them, slower and with inexact indices above 2^24 (gpu.js 2.24.1 supports it)',
  );
  assert.is(setIntegerLocals(true), null);
});

test('reads above 2^24 are exact', async () => {
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
