import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSpec } from '../../compiler/frontend';
import { buildConv, buildLinear, buildPooling, windowOutputSize } from '../support/network-builder';
import { goldenDir } from '../support/golden-cases';

test('window output size floors', () => {
  // floor((in + 2·pad - dil·(k-1) - 1)/stride) + 1
  assert.is(windowOutputSize(11, 3, 2, 1, 1), 6);
  assert.is(windowOutputSize(8, 2, 2, 0, 1), 4);
  assert.is(windowOutputSize(7, 3, 1, 0, 2), 3);
  assert.is(windowOutputSize(5, 2, 2, 0, 1), 2);
});

test('test builder resolves shapes like the front end', () => {
  // Rectangular kernel, stride, per-axis padding, and pooling with an explicit theta.
  const { network } = loadSpec(path.join(goldenDir, 'specs', 'tiny_cnn_stride.yaml'), { inputShape: [1, 11, 8] });
  const conv = buildConv('conv_1', [1, 11, 8], {
    outChannels: 5,
    kernelSize: [3, 2],
    stride: [2, 2],
    padding: [1, 0],
    weightScale: 2,
    threshold: 1,
  });
  const pooling = buildPooling('pooling_1', conv.outShape, { kernelSize: [2, 2], theta: 1.5 });
  const output = buildLinear('output', pooling.outShape, { nOutputs: 3, weightScale: 1, threshold: 0.8 });
  assert.equal(network.layers, [conv, pooling, output]);
});

test.run();
