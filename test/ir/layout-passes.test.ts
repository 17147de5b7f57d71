// When the SIMD layout passes rewrite an op and when they leave it alone. pad-input-columns
// needs stride 1 and column padding, and leaves a padded conv with none. split-weight-grad then
// needs stride 1, no column padding, rows a multiple of 4 cells and an unmasked input.
// pad-gradient-columns needs stride 1, and time-major-linear a timed input with a multiple of
// 4 values per step.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Layer, Network } from '../../common/network';
import type { IrModule, Op } from '../../compiler/ir/ir';
import { runPasses } from '../../compiler/passes/pipeline';
import { buildConv, buildDropout, buildLinear, buildNetwork } from '../support/network-builder';

function eventNetwork(layers: Layer[], inputShape: [number, number, number], nSteps = 5): Network {
  return buildNetwork({ nSteps, tauM: 5, tauS: 3, loss: 'count', nClass: 2, inputEncoding: 'events', inputShape }, layers);
}

function opsOf(module: IrModule, kind: Op['kind'], layer: string): Op[] {
  return module.ops.filter((op) => op.kind === kind && op.layer === layer);
}

/** Two convs on events, so the second has an input gradient, then a linear output. */
function convPair(options: { stride?: [number, number]; padding?: [number, number]; width?: number; dropout?: boolean }): Network {
  // By default conv_1 writes rows of 16 columns and conv_2 of 12: at T 5, 80 and 60 cells.
  const width = options.width ?? 18;
  const conv1 = buildConv('conv_1', [1, width, width], { outChannels: 2, kernelSize: [3, 3] });
  const dropout = buildDropout('dropout_1', conv1.outShape, 0.2);
  const conv2 = buildConv('conv_2', conv1.outShape, { outChannels: 2, kernelSize: [5, 5], stride: options.stride, padding: options.padding });
  const output = buildLinear('output', conv2.outShape, { nOutputs: 2 });
  return eventNetwork(options.dropout === true ? [conv1, dropout, conv2, output] : [conv1, conv2, output], [1, width, width]);
}

test('stride 1 conv is split and padded', () => {
  const module = runPasses(convPair({}));
  assert.is(opsOf(module, 'conv_weight_grad', 'conv_2')[0].attrs.lanes, 4);
  assert.is(opsOf(module, 'lane_sum', 'conv_2').length, 1);
  assert.equal(opsOf(module, 'pad_columns', 'conv_2')[0].attrs, { left: 4, right: 4 });
  assert.equal(opsOf(module, 'conv_input_grad', 'conv_2')[0].attrs.grad_columns, [4, 4]);
});

test('stride 2 conv is left alone', () => {
  const module = runPasses(convPair({ stride: [2, 2] }));
  assert.is(opsOf(module, 'conv_weight_grad', 'conv_2')[0].attrs.lanes, undefined);
  assert.is(opsOf(module, 'pad_columns', 'conv_2').length, 0);
  assert.is(opsOf(module, 'conv_input_grad', 'conv_2')[0].attrs.grad_columns, undefined);
});

test('padded conv reads padded rows', () => {
  // conv_2's output is 16 columns wide again, 80 cells per row.
  const module = runPasses(convPair({ padding: [2, 2] }));
  const conv = opsOf(module, 'conv', 'conv_2')[0];
  assert.is(conv.operands[0], 'conv_1.psp.padded');
  assert.equal(conv.attrs.padding, [2, 0]);
  assert.equal(conv.attrs.input_columns, [2, 2]);
  const weightGrad = opsOf(module, 'conv_weight_grad', 'conv_2')[0];
  assert.is(weightGrad.operands[1], 'conv_1.psp.padded');
  assert.is(weightGrad.attrs.lanes, 4);
  // One copy pads the input by the conv's padding, the other the output gradient for the input gradient.
  assert.equal(
    opsOf(module, 'pad_columns', 'conv_2').map((op) => op.attrs),
    [
      { left: 2, right: 2 },
      { left: 2, right: 2 },
    ],
  );
});

test('padded stride 2 conv stays', () => {
  const module = runPasses(convPair({ stride: [2, 2], padding: [1, 1] }));
  assert.is(opsOf(module, 'conv', 'conv_2')[0].operands[0], 'conv_1.psp');
  assert.is(opsOf(module, 'pad_columns', 'conv_2').length, 0);
});

test('rows off a multiple of 4 are not split', () => {
  // conv_2's output is 1 column wide: 5 cells per row at T 5.
  const module = runPasses(convPair({ width: 7 }));
  assert.is(opsOf(module, 'conv_weight_grad', 'conv_2')[0].attrs.lanes, undefined);
});

test('masked conv input is not split', () => {
  const module = runPasses(convPair({ dropout: true }));
  assert.is(opsOf(module, 'conv_weight_grad', 'conv_2')[0].attrs.lanes, undefined);
  assert.is(opsOf(module, 'conv_weight_grad', 'conv_1')[0].attrs.lanes, 4);
});

test('linear input goes time-major', () => {
  const hidden = buildLinear('FC_1', [8, 1, 1], { nOutputs: 8 });
  const output = buildLinear('output', hidden.outShape, { nOutputs: 2 });
  const module = runPasses(eventNetwork([hidden, output], [8, 1, 1]));
  assert.is(opsOf(module, 'time_major', 'FC_1').length, 1);
  assert.is(opsOf(module, 'linear', 'FC_1')[0].attrs.lanes, 4);
  assert.is(opsOf(module, 'linear_weight_grad', 'FC_1')[0].attrs.time_major, true);
  // The first layer's input gradient is never computed. The output layer's goes back to [n, i, t].
  assert.is(opsOf(module, 'time_minor', 'FC_1').length, 0);
  assert.is(opsOf(module, 'time_minor', 'output').length, 1);
});

test('6 inputs per step stay', () => {
  const hidden = buildLinear('FC_1', [8, 1, 1], { nOutputs: 6 });
  const output = buildLinear('output', hidden.outShape, { nOutputs: 2 });
  const module = runPasses(eventNetwork([hidden, output], [8, 1, 1]));
  assert.is(opsOf(module, 'time_major', 'output').length, 0);
  assert.is(opsOf(module, 'linear', 'output')[0].attrs.lanes, undefined);
});

test('static first linear stays', () => {
  const output = buildLinear('output', [8, 1, 1], { nOutputs: 2 });
  const network = buildNetwork({ nSteps: 5, tauM: 5, tauS: 3, loss: 'count', nClass: 2, inputShape: [8, 1, 1] }, [output]);
  const module = runPasses(network);
  assert.is(opsOf(module, 'time_major', 'output').length, 0);
});

test.run();
