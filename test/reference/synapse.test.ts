import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConvLayer, Pair, PoolingLayer, SampleShape } from '../../common/network';
import { Rng } from '../../runtime/rng';
import { poolingBackward, poolingForward } from '../../runtime/reference/pooling';
import {
  convForward,
  convInputGrad,
  convWeightGrad,
  linearForward,
  linearInputGrad,
  linearWeightGrad,
} from '../../runtime/reference/synapse';
import { buildConv, buildLinear, buildPooling } from '../support/network-builder';

const CASES = 40;

function randomValues(rng: Rng, length: number): Float32Array {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) values[i] = rng.normal();
  return values;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function assertClose(actual: number, expected: number, scale: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-5 * Math.max(1, scale), `${label}: ${actual} vs ${expected}`);
}

function drawPair(rng: Rng, low: number, high: number): Pair {
  return [low + rng.integer(high - low + 1), low + rng.integer(high - low + 1)];
}

/** Draws a conv layer with random geometry whose kernel fits the input, odd or even sized. */
function randomConv(rng: Rng): ConvLayer {
  for (;;) {
    const inShape: SampleShape = [1 + rng.integer(3), 2 + rng.integer(8), 2 + rng.integer(8)];
    const kernelSize = drawPair(rng, 1, 5);
    const padding = drawPair(rng, 0, 2);
    const dilation = drawPair(rng, 1, 2);
    const fits = [0, 1].every((axis) => inShape[axis + 1] + 2 * padding[axis] >= dilation[axis] * (kernelSize[axis] - 1) + 1);
    if (!fits) continue;
    return buildConv('conv', inShape, { outChannels: 1 + rng.integer(3), kernelSize, stride: drawPair(rng, 1, 3), padding, dilation });
  }
}

function randomPooling(rng: Rng): PoolingLayer {
  for (;;) {
    const inShape: SampleShape = [1 + rng.integer(3), 2 + rng.integer(8), 2 + rng.integer(8)];
    const kernelSize = drawPair(rng, 2, 3);
    const padding = drawPair(rng, 0, 1);
    if (inShape[1] + 2 * padding[0] < kernelSize[0] || inShape[2] + 2 * padding[1] < kernelSize[1]) continue;
    const stride = rng.uniform() < 0.5 ? kernelSize : drawPair(rng, 1, 3);
    return buildPooling('pool', inShape, { kernelSize, stride, padding, theta: rng.uniformRange(0.5, 2) });
  }
}

/** Reads `[n, c, y, x, t]`, returning zero outside the image as a padded input would. */
function readPadded(values: Float32Array, shape: SampleShape, nSteps: number, n: number, c: number, y: number, x: number, t: number): number {
  const [channels, height, width] = shape;
  if (y < 0 || y >= height || x < 0 || x >= width) return 0;
  return values[((((n * channels + c) * height + y) * width + x) * nSteps) + t];
}

test('conv forward matches the direct formula', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < CASES; trial++) {
    const layer = randomConv(rng);
    const batch = 2;
    const nSteps = 2;
    const [inChannels] = layer.inShape;
    const [outChannels, outH, outW] = layer.outShape;
    const [kernelH, kernelW] = layer.kernelSize;
    const weights = randomValues(rng, outChannels * inChannels * kernelH * kernelW);
    const input = randomValues(rng, batch * inChannels * layer.inShape[1] * layer.inShape[2] * nSteps);
    const output = convForward(layer, weights, input, batch, nSteps);

    let index = 0;
    for (let n = 0; n < batch; n++) {
      for (let oc = 0; oc < outChannels; oc++) {
        for (let oy = 0; oy < outH; oy++) {
          for (let ox = 0; ox < outW; ox++) {
            for (let t = 0; t < nSteps; t++) {
              let expected = 0;
              for (let ic = 0; ic < inChannels; ic++) {
                for (let ky = 0; ky < kernelH; ky++) {
                  for (let kx = 0; kx < kernelW; kx++) {
                    const y = oy * layer.stride[0] - layer.padding[0] + ky * layer.dilation[0];
                    const x = ox * layer.stride[1] - layer.padding[1] + kx * layer.dilation[1];
                    const weight = weights[((oc * inChannels + ic) * kernelH + ky) * kernelW + kx];
                    expected += weight * readPadded(input, layer.inShape, nSteps, n, ic, y, x, t);
                  }
                }
              }
              assertClose(output[index], expected, Math.abs(expected), `trial ${trial} output ${index}`);
              index++;
            }
          }
        }
      }
    }
    assert.is(index, output.length);
  }
});

test('conv input gradient is the adjoint of conv', () => {
  const rng = new Rng(12);
  for (let trial = 0; trial < CASES; trial++) {
    const layer = randomConv(rng);
    const batch = 2;
    const nSteps = 3;
    const weights = randomValues(rng, layer.weightShape.reduce((a, b) => a * b, 1));
    const x = randomValues(rng, batch * layer.inShape.reduce((a, b) => a * b, 1) * nSteps);
    const y = randomValues(rng, batch * layer.outShape.reduce((a, b) => a * b, 1) * nSteps);

    const forwardSide = dot(convForward(layer, weights, x, batch, nSteps), y);
    const adjointSide = dot(x, convInputGrad(layer, weights, y, batch, nSteps));
    assertClose(adjointSide, forwardSide, Math.abs(forwardSide), `trial ${trial}`);
  }
});

test('conv weight gradient is the adjoint in the weights', () => {
  const rng = new Rng(13);
  for (let trial = 0; trial < CASES; trial++) {
    const layer = randomConv(rng);
    const batch = 2;
    const nSteps = 3;
    const weights = randomValues(rng, layer.weightShape.reduce((a, b) => a * b, 1));
    const x = randomValues(rng, batch * layer.inShape.reduce((a, b) => a * b, 1) * nSteps);
    const y = randomValues(rng, batch * layer.outShape.reduce((a, b) => a * b, 1) * nSteps);

    const forwardSide = dot(convForward(layer, weights, x, batch, nSteps), y);
    const adjointSide = dot(weights, convWeightGrad(layer, x, y, batch, nSteps));
    assertClose(adjointSide, forwardSide, Math.abs(forwardSide), `trial ${trial}`);
  }
});

test('linear forward flattens channel, row, column', () => {
  // Input [1, 2, 1, 2] with T = 1: flattened order c0y0x0, c0y0x1, c1y0x0, c1y0x1.
  const layer = buildLinear('linear', [2, 1, 2], { nOutputs: 2 });
  const weights = Float32Array.from([1, 2, 3, 4, 0, 0, 0, 1]);
  const input = Float32Array.from([1, 10, 100, 1000]);
  const output = linearForward(layer, weights, input, 1, 1);
  assert.equal(Array.from(output), [1 + 20 + 300 + 4000, 1000]);
});

test('linear gradients are the adjoints of linear', () => {
  const rng = new Rng(14);
  for (let trial = 0; trial < CASES; trial++) {
    const inShape: SampleShape = [1 + rng.integer(3), 1 + rng.integer(4), 1 + rng.integer(4)];
    const layer = buildLinear('linear', inShape, { nOutputs: 1 + rng.integer(6) });
    const batch = 1 + rng.integer(3);
    const nSteps = 1 + rng.integer(4);
    const weights = randomValues(rng, layer.nOutputs * layer.nInputs);
    const x = randomValues(rng, batch * layer.nInputs * nSteps);
    const y = randomValues(rng, batch * layer.nOutputs * nSteps);

    const forwardSide = dot(linearForward(layer, weights, x, batch, nSteps), y);
    const inputSide = dot(x, linearInputGrad(layer, weights, y, batch, nSteps));
    const weightSide = dot(weights, linearWeightGrad(layer, x, y, batch, nSteps));
    assertClose(inputSide, forwardSide, Math.abs(forwardSide), `trial ${trial} input`);
    assertClose(weightSide, forwardSide, Math.abs(forwardSide), `trial ${trial} weights`);
  }
});

test('pooling forward matches the direct formula', () => {
  const rng = new Rng(15);
  for (let trial = 0; trial < CASES; trial++) {
    const layer = randomPooling(rng);
    const batch = 2;
    const nSteps = 2;
    const [channels, outH, outW] = layer.outShape;
    const input = randomValues(rng, batch * layer.inShape.reduce((a, b) => a * b, 1) * nSteps);
    const output = poolingForward(layer, input, batch, nSteps);

    let index = 0;
    for (let n = 0; n < batch; n++) {
      for (let c = 0; c < channels; c++) {
        for (let oy = 0; oy < outH; oy++) {
          for (let ox = 0; ox < outW; ox++) {
            for (let t = 0; t < nSteps; t++) {
              let sum = 0;
              for (let ky = 0; ky < layer.kernelSize[0]; ky++) {
                for (let kx = 0; kx < layer.kernelSize[1]; kx++) {
                  const y = oy * layer.stride[0] - layer.padding[0] + ky;
                  const x = ox * layer.stride[1] - layer.padding[1] + kx;
                  sum += readPadded(input, layer.inShape, nSteps, n, c, y, x, t);
                }
              }
              const expected = layer.theta * sum;
              assertClose(output[index], expected, Math.abs(expected), `trial ${trial} output ${index}`);
              index++;
            }
          }
        }
      }
    }
    assert.is(index, output.length);
  }
});

test('pooling of an odd size floors', () => {
  // A 5×5 plane pooled 2×2 keeps the 2×2 full windows and drops the last row and column.
  const layer = buildPooling('pool', [1, 5, 5], { kernelSize: [2, 2], theta: 1 });
  assert.equal(layer.outShape, [1, 2, 2]);
  const input = new Float32Array(25);
  for (let i = 0; i < 25; i++) input[i] = i;
  const output = poolingForward(layer, input, 1, 1);
  assert.equal(Array.from(output), [0 + 1 + 5 + 6, 2 + 3 + 7 + 8, 10 + 11 + 15 + 16, 12 + 13 + 17 + 18]);
});

test('pooling backward is the adjoint of pooling', () => {
  const rng = new Rng(16);
  for (let trial = 0; trial < CASES; trial++) {
    const layer = randomPooling(rng);
    const batch = 2;
    const nSteps = 3;
    const x = randomValues(rng, batch * layer.inShape.reduce((a, b) => a * b, 1) * nSteps);
    const y = randomValues(rng, batch * layer.outShape.reduce((a, b) => a * b, 1) * nSteps);

    const forwardSide = dot(poolingForward(layer, x, batch, nSteps), y);
    const adjointSide = dot(x, poolingBackward(layer, y, batch, nSteps));
    assertClose(adjointSide, forwardSide, Math.abs(forwardSide), `trial ${trial}`);
  }
});

test.run();
