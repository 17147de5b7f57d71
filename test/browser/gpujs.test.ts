// Tests: plain gpu.js kernels run on the real webgl2 and webgpu backends in headless Chromium.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { browserAvailable, SharedPage } from './harness';
import type { SumResult } from './page/sum';

const suiteName = 'gpu.js in Chromium';
const test = suite(suiteName);

// Inputs with a fractional part and a sign change, so a wrong index or a lost sign shows.
const n = 37;
const a = Array.from({ length: n }, (_, i) => Math.fround((i % 7) * 0.25 - 0.5));
const b = Array.from({ length: n }, (_, i) => Math.fround(1.5 - i * 0.125));

function assertClose(actual: number[], expected: number[], label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])),
      `${label}[${i}] = ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

if (browserAvailable(suiteName, test)) {
  const page = new SharedPage(suiteName, "import './page/sum';", import.meta.dirname);
  test.after(() => page.close());

  for (const mode of ['webgl2', 'webgpu']) {
    test(`sum kernels on ${mode}`, async () => {
      const result = await (await page.get()).call<SumResult>('runSums', [mode, a, b]);
      console.log(`${suiteName}: first run of two kernels on ${mode} took ${result.milliseconds.toFixed(0)} ms`);

      assert.is(result.kernels.length, 2);
      for (const kernel of result.kernels) {
        assert.is(kernel.backend, mode, `kernel ran on ${kernel.backend}, not ${mode}`);
        assert.not.ok(kernel.fallbackRequested, `kernel fell back to cpu: ${kernel.fallbackReason}`);
      }

      assertClose(result.elementwise, a.map((value, i) => value + b[i]), 'a + b');
      let total = 0;
      const prefix = a.map((value) => (total += value));
      assertClose(result.prefix, prefix, 'prefix sum of a');
    });
  }

  // The backend check above is only worth something if it can tell cpu apart.
  test('backend check reports cpu', async () => {
    const result = await (await page.get()).call<SumResult>('runSums', ['cpu', a, b]);
    assert.equal(result.kernels.map((kernel) => kernel.backend), ['cpu', 'cpu']);
    assertClose(result.elementwise, a.map((value, i) => value + b[i]), 'a + b');
  });
}

test.run();
