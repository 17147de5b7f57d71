// Reference backend, pooling: a scaled sum over each window, per channel and per step,
// with zero padding and no neuron, and its backward pass.

import type { PoolingLayer } from '../../common/network';
import { windowTaps, type WindowTap } from './window';

const tapCache = new WeakMap<PoolingLayer, WindowTap[]>();

function poolingTaps(layer: PoolingLayer): WindowTap[] {
  let taps = tapCache.get(layer);
  if (!taps) {
    taps = windowTaps({ ...layer, dilation: [1, 1] });
    tapCache.set(layer, taps);
  }
  return taps;
}

/**
 * Computes `P[t] = theta · Σ_window ψprev[t]` for every channel of every sample.
 * Windows that run past an odd-sized edge are dropped by the output size (floor), and
 * padded positions read zero.
 */
export function poolingForward(layer: PoolingLayer, inputPsp: Float32Array, batch: number, nSteps: number): Float32Array {
  const [channels, inH, inW] = layer.inShape;
  const [, outH, outW] = layer.outShape;
  const inPixels = inH * inW;
  const outPixels = outH * outW;
  const taps = poolingTaps(layer);
  checkLength(layer, 'input PSP', inputPsp, batch * channels * inPixels * nSteps);

  const output = new Float64Array(batch * channels * outPixels * nSteps);
  for (let plane = 0; plane < batch * channels; plane++) {
    for (const tap of taps) {
      const inBase = (plane * inPixels + tap.inPixel) * nSteps;
      const outBase = (plane * outPixels + tap.outPixel) * nSteps;
      for (let t = 0; t < nSteps; t++) output[outBase + t] += layer.theta * inputPsp[inBase + t];
    }
  }
  return Float32Array.from(output);
}

/** Computes `∂E/∂ψprev`: every input in a window receives `theta · ∂E/∂P[t]` of that window. */
export function poolingBackward(layer: PoolingLayer, gradOutput: Float32Array, batch: number, nSteps: number): Float32Array {
  const [channels, inH, inW] = layer.inShape;
  const [, outH, outW] = layer.outShape;
  const inPixels = inH * inW;
  const outPixels = outH * outW;
  const taps = poolingTaps(layer);
  checkLength(layer, 'output gradient', gradOutput, batch * channels * outPixels * nSteps);

  const gradInput = new Float64Array(batch * channels * inPixels * nSteps);
  for (let plane = 0; plane < batch * channels; plane++) {
    for (const tap of taps) {
      const inBase = (plane * inPixels + tap.inPixel) * nSteps;
      const outBase = (plane * outPixels + tap.outPixel) * nSteps;
      for (let t = 0; t < nSteps; t++) gradInput[inBase + t] += layer.theta * gradOutput[outBase + t];
    }
  }
  return Float32Array.from(gradInput);
}

function checkLength(layer: PoolingLayer, tensorName: string, values: Float32Array, expected: number): void {
  if (values.length !== expected) {
    throw new Error(`layer '${layer.name}': ${tensorName} has ${values.length} values, expected ${expected}`);
  }
}
