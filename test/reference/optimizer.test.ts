import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NonFiniteError, type TensorMap } from '../../runtime/engine';
import { adamWStep, createOptimizerState } from '../../runtime/optimizer';

function assertClose(actual: number, expected: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${label}: ${actual} vs ${expected}`);
}

test('optimizer state starts at zero', () => {
  const state = createOptimizerState({ a: new Float32Array(3), b: new Float32Array(2) });
  assert.is(state.step, 0);
  assert.equal(Array.from(state.m.a), [0, 0, 0]);
  assert.equal(Array.from(state.v.b), [0, 0]);
});

test('adamw first and second step by hand', () => {
  const lr = 0.1;
  const weights: TensorMap = { layer: Float32Array.from([0.5, -1]) };
  const state = createOptimizerState(weights);

  // Step 1, gradient norm 0.5 (no clipping). m = 0.1·g and v = 0.001·g², so after bias
  // correction m̂ = g and v̂ = g², and the Adam step is lr·g/(|g| + 1e-8).
  const grad1 = [0.3, -0.4];
  const { gradNorm } = adamWStep(weights, { layer: Float32Array.from(grad1) }, state, lr);
  assertClose(gradNorm, 0.5, 'gradNorm');
  const after1 = [0.5, -1].map((w, i) => w * (1 - lr * 0.01) - (lr * grad1[i]) / (Math.abs(grad1[i]) + 1e-8));
  assertClose(weights.layer[0], after1[0], 'w0 after step 1');
  assertClose(weights.layer[1], after1[1], 'w1 after step 1');
  assert.is(state.step, 1);

  // Step 2: m = 0.9·m1 + 0.1·g2, v = 0.999·v1 + 0.001·g2², m̂ = m/(1 - 0.9²), v̂ = v/(1 - 0.999²).
  const grad2 = [0.1, 0.2];
  adamWStep(weights, { layer: Float32Array.from(grad2) }, state, lr);
  for (let i = 0; i < 2; i++) {
    const m = 0.9 * (0.1 * grad1[i]) + 0.1 * grad2[i];
    const v = 0.999 * (0.001 * grad1[i] ** 2) + 0.001 * grad2[i] ** 2;
    const mHat = m / (1 - 0.81);
    const vHat = v / (1 - 0.998001);
    const expected = after1[i] * (1 - lr * 0.01) - (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    assertClose(state.m.layer[i], m, `m${i}`);
    assertClose(state.v.layer[i], v, `v${i}`);
    assertClose(weights.layer[i], expected, `w${i} after step 2`);
  }
});

test('adamw clips the global norm above 1', () => {
  // Norm over both layers: sqrt(3² + 4²) = 5, so every gradient is scaled by 1/(5 + 1e-6).
  const weights: TensorMap = { a: Float32Array.from([0]), b: Float32Array.from([0]) };
  const state = createOptimizerState(weights);
  const { gradNorm } = adamWStep(weights, { a: Float32Array.from([3]), b: Float32Array.from([4]) }, state, 0.01);
  assertClose(gradNorm, 5, 'gradNorm');
  assertClose(state.m.a[0], (0.1 * 3) / (5 + 1e-6), 'm of a');
  assertClose(state.m.b[0], (0.1 * 4) / (5 + 1e-6), 'm of b');
});

test('adamw leaves a norm of at most 1 unscaled', () => {
  const weights: TensorMap = { a: Float32Array.from([0, 0]) };
  const state = createOptimizerState(weights);
  adamWStep(weights, { a: Float32Array.from([0.6, 0.8]) }, state, 0.01);
  assertClose(state.m.a[0], 0.06, 'm0');
  assertClose(state.m.a[1], 0.08, 'm1');
});

test('adamw clamps weights to 4', () => {
  // A first step moves each weight by lr = 0.5 against its gradient's sign.
  const weights: TensorMap = { a: Float32Array.from([3.9, -3.9, 1]) };
  const state = createOptimizerState(weights);
  adamWStep(weights, { a: Float32Array.from([-0.1, 0.1, 0.1]) }, state, 0.5);
  assert.is(weights.a[0], 4);
  assert.is(weights.a[1], -4);
  assertClose(weights.a[2], 1 * (1 - 0.5 * 0.01) - 0.5 * (0.1 / (0.1 + 1e-8)), 'unclamped weight');
});

test('adamw raises NonFiniteError naming the layer', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const weights: TensorMap = { first: Float32Array.from([0.5, 0.25]), second: Float32Array.from([1]) };
    const state = createOptimizerState(weights);
    const grads: TensorMap = { first: Float32Array.from([0.1, 0.2]), second: Float32Array.from([bad]) };

    let error: unknown;
    try {
      adamWStep(weights, grads, state, 0.1);
    } catch (caught) {
      error = caught;
    }
    assert.instance(error, NonFiniteError);
    assert.is((error as NonFiniteError).where, 'second');
    assert.equal(Array.from(weights.first), [0.5, 0.25], `weights of 'first' unchanged after ${bad}`);
    assert.equal(Array.from(weights.second), [1]);
    assert.is(state.step, 0);
    assert.equal(Array.from(state.m.first), [0, 0]);
  }
});

test('adamw rejects a gradient without weights', () => {
  const weights: TensorMap = { a: Float32Array.from([0]) };
  const state = createOptimizerState(weights);
  assert.throws(() => adamWStep(weights, { b: Float32Array.from([0]) }, state, 0.1), /layer 'b' has a gradient but no weights/);
});

test.run();
