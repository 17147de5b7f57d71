// The SIMD layout passes (split-weight-grad, pad-gradient-columns, time-major-linear) and the
// template variants they lead to, against the reference engine. The small networks are built so
// that each pass rewrites at least one layer: timed and static conv weight gradients, a padded and
// dilated conv input gradient, and linear layers with and without a dropout before them. The
// third network takes the other variant where one exists: a padded input gradient whose rows are
// not a multiple of 4 cells, and a 3x3 pooling window whose neurons run in a loop. The fourth, a
// small copy of the MNIST network, pads its gradient by whole SIMD steps.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Network } from '../../common/network';
import { compileInMemory } from '../../compiler/compile';
import { createEngine, type GeneratedKernels } from '../../runtime/gpu/engine';
import type { Manifest } from '../../runtime/gpu/manifest';
import { createReferenceEngine } from '../../runtime/reference';
import { Rng } from '../../runtime/rng';
import { buildConv, buildDropout, buildLinear, buildNetwork, buildPooling } from '../support/network-builder';
import { assertTensorsClose } from '../support/tensors';
import { randomBatch, randomDropoutMasks } from '../support/random-network';

const TOLERANCE = 1e-4;

/** Builds events into a 5x5 conv without padding, a pooling, a padded and dilated conv, dropout and two linear layers. */
function eventNetwork(): Network {
  const conv1 = buildConv('conv_1', [2, 12, 12], { outChannels: 4, kernelSize: [5, 5], weightScale: 3, threshold: 0.6 });
  const pool = buildPooling('pooling_1', conv1.outShape, { kernelSize: [2, 2] });
  const conv2 = buildConv('conv_2', pool.outShape, { outChannels: 4, kernelSize: [3, 3], padding: [2, 2], dilation: [2, 2], weightScale: 4, threshold: 0.5 });
  const dropout = buildDropout('dropout_1', conv2.outShape, 0.3);
  const hidden = buildLinear('FC_1', conv2.outShape, { nOutputs: 12, weightScale: 3, threshold: 0.5 });
  const output = buildLinear('output', hidden.outShape, { nOutputs: 3, weightScale: 3, threshold: 0.5 });
  return buildNetwork(
    { nSteps: 5, tauM: 5, tauS: 3, loss: 'kernel', nClass: 3, batchSize: 3, inputEncoding: 'events', inputShape: [2, 12, 12] },
    [conv1, pool, conv2, dropout, hidden, output],
  );
}

/** Builds a static image into a conv whose weight gradient has no time axis, then one linear layer. */
function staticNetwork(): Network {
  const conv1 = buildConv('conv_1', [1, 10, 10], { outChannels: 3, kernelSize: [3, 3], weightScale: 4, threshold: 0.5 });
  const output = buildLinear('output', conv1.outShape, { nOutputs: 2, weightScale: 2, threshold: 0.5 });
  return buildNetwork({ nSteps: 5, tauM: 5, tauS: 3, loss: 'count', nClass: 2, batchSize: 2, inputShape: [1, 10, 10] }, [conv1, output]);
}

/** Builds a static image into a padded conv, a 3x3 pooling, a padded conv with 3-column rows (15 cells) and one linear layer. */
function oddRowNetwork(): Network {
  const conv1 = buildConv('conv_1', [1, 9, 9], { outChannels: 3, kernelSize: [3, 3], padding: [1, 1], weightScale: 4, threshold: 0.5 });
  const pool = buildPooling('pooling_1', conv1.outShape, { kernelSize: [3, 3] });
  const conv2 = buildConv('conv_2', pool.outShape, { outChannels: 4, kernelSize: [3, 3], padding: [1, 1], weightScale: 4, threshold: 0.5 });
  const output = buildLinear('output', conv2.outShape, { nOutputs: 2, weightScale: 2, threshold: 0.5 });
  return buildNetwork({ nSteps: 5, tauM: 5, tauS: 3, loss: 'count', nClass: 2, batchSize: 2, inputShape: [1, 9, 9] }, [conv1, pool, conv2, output]);
}

/** Builds a static image into a 5x5 conv, a 2x2 pooling, an unpadded 5x5 conv with 4-column output rows and one linear layer. */
function mnistLikeNetwork(): Network {
  const conv1 = buildConv('conv_1', [1, 20, 20], { outChannels: 3, kernelSize: [5, 5], weightScale: 4, threshold: 0.5 });
  const pool = buildPooling('pooling_1', conv1.outShape, { kernelSize: [2, 2] });
  const conv2 = buildConv('conv_2', pool.outShape, { outChannels: 4, kernelSize: [5, 5], weightScale: 4, threshold: 0.5 });
  const output = buildLinear('output', conv2.outShape, { nOutputs: 2, weightScale: 2, threshold: 0.5 });
  return buildNetwork({ nSteps: 5, tauM: 5, tauS: 3, loss: 'kernel', nClass: 2, batchSize: 2, inputShape: [1, 20, 20] }, [conv1, pool, conv2, output]);
}

/** Returns the source of the generated kernel `name` of `network`. */
function kernelSource(network: Network, name: string): string {
  const kernel = compileInMemory(network).manifest.kernels.find((candidate) => candidate.name === name);
  assert.ok(kernel !== undefined, `no kernel ${name}`);
  return kernel.source;
}

function opKinds(network: Network): string[] {
  return compileInMemory(network).irText.match(/snn\.[a-z_]+/g) ?? [];
}

test('event network uses every layout pass', () => {
  const kinds = opKinds(eventNetwork());
  assert.ok(kinds.includes('snn.lane_sum'), 'no lane sum');
  assert.ok(kinds.includes('snn.pad_columns'), 'no padded gradient');
  assert.ok(kinds.includes('snn.time_major'), 'no time-major input');
  assert.ok(kinds.includes('snn.time_minor'), 'no time-minor input gradient');
});

test('static network splits its weight gradient', () => {
  const { irText } = compileInMemory(staticNetwork());
  assert.match(irText, /%conv_1\.w\.grad\.lanes = snn\.conv_weight_grad\(%conv_1\.S\.grad/);
});

test('input gradient skips by quad on 4-cell rows', () => {
  assert.match(kernelSource(eventNetwork(), 'conv_2_input_grad'), /const quad = this\.thread\.y;/);
  assert.not.match(kernelSource(oddRowNetwork(), 'conv_2_input_grad'), /quad/);
});

test('gradient padding copies by quad when aligned', () => {
  assert.match(kernelSource(mnistLikeNetwork(), 'conv_2_grad_padded'), /const quad = this\.thread\.y;/);
  assert.not.match(kernelSource(eventNetwork(), 'conv_2_grad_padded'), /quad/);
});

test('pooling window interleaves up to 4 neurons', () => {
  assert.match(kernelSource(eventNetwork(), 'conv_1_lif_pooling_1'), /let u_3 = 0\.0;/);
  assert.not.match(kernelSource(oddRowNetwork(), 'conv_1_lif_pooling_1'), /u_0/);
});

const cases: [string, () => Network, number][] = [
  ['event network', eventNetwork, 11],
  ['static network', staticNetwork, 12],
  ['odd-row network', oddRowNetwork, 13],
  ['MNIST-like network', mnistLikeNetwork, 14],
];

for (const [name, build, seed] of cases) {
  for (const backend of ['webasm', 'cpu'] as const) {
    test(`${name} matches reference on ${backend}`, async () => {
      const network = build();
      const rng = new Rng(seed);
      const { manifest } = compileInMemory(network);
      const kernels: GeneratedKernels = {};
      for (const kernel of manifest.kernels) kernels[kernel.name] = new Function(`return ${kernel.source}`)();
      const engine = await createEngine(manifest as Manifest, kernels, { gpu: new GPU({ mode: backend }), backend, batchSize: network.batchSize });
      const reference = createReferenceEngine(network, { seed });
      engine.setWeights(reference.getWeights());
      const batch = randomBatch(rng, network, network.batchSize);
      const masks = randomDropoutMasks(rng, network, network.batchSize);

      const actual = await engine.forwardBackward(batch, { dropoutMasks: masks, keepActivations: true });
      const expected = await reference.forwardBackward(batch, { dropoutMasks: masks, keepActivations: true });
      assertTensorsClose({ output: actual.outputPsp }, { output: expected.outputPsp }, 'output PSP');
      assertTensorsClose(actual.activations ?? {}, expected.activations ?? {}, 'activation');
      assertTensorsClose(actual.weightGrads, expected.weightGrads, 'weight gradient');

      const step = await engine.trainStep(batch, 0.01, { dropoutMasks: masks });
      const referenceStep = await reference.trainStep(batch, 0.01, { dropoutMasks: masks });
      assert.ok(Math.abs(step.loss - referenceStep.loss) <= TOLERANCE * Math.max(1, Math.abs(referenceStep.loss)), `loss ${step.loss} against ${referenceStep.loss}`);
      assertTensorsClose(engine.getWeights(), reference.getWeights(), 'weight after a step:');
      engine.dispose();
    });
  }
}

test.run();
