// Test support: compares named tensors within a relative tolerance of each tensor's largest magnitude.

import * as assert from 'uvu/assert';
import type { TensorMap } from '../../runtime/engine';
import { relativeError } from '../../runtime/golden';

/** Asserts that every tensor of `expected` is in `actual` and within `tolerance` of it. */
export function assertTensorsClose(actual: TensorMap, expected: TensorMap, label: string, tolerance = 1e-4): void {
  for (const name of Object.keys(expected)) {
    const values = actual[name];
    assert.ok(values !== undefined, `${label} ${name} is missing`);
    const error = relativeError(values, expected[name]);
    assert.ok(error <= tolerance, `${label} ${name}: relative error ${error}`);
  }
}
