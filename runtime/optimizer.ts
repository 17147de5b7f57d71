// Runtime, optimiser: one AdamW step of the reference training procedure on host arrays,
// with global gradient-norm clipping before the step and weight clamping after it.

import { NonFiniteError, type OptimizerState, type TensorMap } from './engine';

/** Adam moment decay rates. */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
/** Added to `sqrt(v̂)` so the step stays finite when a moment is zero. */
export const ADAM_EPSILON = 1e-8;
/** Decoupled weight decay: `w ← w·(1 - lr·0.01)` before the Adam step. */
export const WEIGHT_DECAY = 0.01;
/** The global gradient norm is scaled down to this value when it exceeds it. */
export const MAX_GRAD_NORM = 1;
/** Added to the norm in the clipping scale `1/(norm + 1e-6)`. */
export const CLIP_EPSILON = 1e-6;
/** After each step every weight is clamped to `[-WEIGHT_LIMIT, WEIGHT_LIMIT]`. */
export const WEIGHT_LIMIT = 4;

/** Returns a fresh AdamW state: step 0 and zero moments shaped like `weights`. */
export function createOptimizerState(weights: TensorMap): OptimizerState {
  const m: TensorMap = {};
  const v: TensorMap = {};
  for (const [name, values] of Object.entries(weights)) {
    m[name] = new Float32Array(values.length);
    v[name] = new Float32Array(values.length);
  }
  return { step: 0, m, v };
}

/**
 * Updates `weights` and `state` in place with one AdamW step on `grads` and returns the
 * global gradient norm before clipping. In order: clip the norm over all layers to 1,
 * decay the weights, take the bias-corrected Adam step, clamp to [-4, 4].
 * Throws `NonFiniteError` naming the layer when a gradient is NaN or infinite. The check
 * runs before anything changes, so weights and state are then left as they were.
 */
export function adamWStep(
  weights: TensorMap,
  grads: TensorMap,
  state: OptimizerState,
  lr: number,
): { gradNorm: number } {
  const names = Object.keys(grads);
  checkShapes(names, weights, grads, state);
  for (const name of names) checkFinite(name, grads[name]);

  // Global gradient norm over every layer, and the clipping scale it implies.
  let squaredNorm = 0;
  for (const name of names) {
    for (const g of grads[name]) squaredNorm += g * g;
  }
  const gradNorm = Math.sqrt(squaredNorm);
  const clipScale = gradNorm > MAX_GRAD_NORM ? MAX_GRAD_NORM / (gradNorm + CLIP_EPSILON) : 1;

  state.step += 1;
  const biasCorrection1 = 1 - Math.pow(ADAM_BETA1, state.step);
  const biasCorrection2 = 1 - Math.pow(ADAM_BETA2, state.step);
  const decay = 1 - lr * WEIGHT_DECAY;

  for (const name of names) {
    const w = weights[name];
    const g = grads[name];
    const m = state.m[name];
    const v = state.v[name];
    for (let i = 0; i < w.length; i++) {
      const grad = g[i] * clipScale;
      m[i] = ADAM_BETA1 * m[i] + (1 - ADAM_BETA1) * grad;
      v[i] = ADAM_BETA2 * v[i] + (1 - ADAM_BETA2) * grad * grad;

      const mHat = m[i] / biasCorrection1;
      const vHat = v[i] / biasCorrection2;
      const updated = w[i] * decay - (lr * mHat) / (Math.sqrt(vHat) + ADAM_EPSILON);
      w[i] = Math.min(Math.max(updated, -WEIGHT_LIMIT), WEIGHT_LIMIT);
    }
  }
  return { gradNorm };
}

function checkFinite(name: string, values: Float32Array): void {
  for (const value of values) {
    if (!Number.isFinite(value)) throw new NonFiniteError(name, value);
  }
}

function checkShapes(names: string[], weights: TensorMap, grads: TensorMap, state: OptimizerState): void {
  for (const name of names) {
    const size = grads[name].length;
    const parts: [string, Float32Array | undefined][] = [
      ['weights', weights[name]],
      ['first moment', state.m[name]],
      ['second moment', state.v[name]],
    ];
    for (const [what, values] of parts) {
      if (values === undefined) {
        throw new Error(`AdamW: layer '${name}' has a gradient but no ${what}; create the state with createOptimizerState(weights)`);
      }
      if (values.length !== size) {
        throw new Error(`AdamW: layer '${name}' has ${size} gradient values but ${values.length} ${what} values`);
      }
    }
  }
}
