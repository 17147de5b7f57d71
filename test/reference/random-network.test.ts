import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isSynapse, sampleSize, type Network } from '../../common/network';
import { createReferenceEngine } from '../../runtime/reference';
import { Rng } from '../../runtime/rng';
import { windowOutputSize } from '../support/network-builder';
import { kernelLossSteps, randomBatch, randomDropoutMasks, randomNetwork } from '../support/random-network';

const DRAWS = 200;

function drawNetworks(seed: number): Network[] {
  const rng = new Rng(seed);
  return Array.from({ length: DRAWS }, () => randomNetwork(rng));
}

test('random networks chain their shapes', () => {
  for (const network of drawNetworks(1)) {
    let shape = network.inputShape;
    for (const layer of network.layers) {
      assert.equal(layer.inShape, shape, `'${layer.name}' input shape`);
      if (layer.type === 'conv' || layer.type === 'pooling') {
        const dilation = layer.type === 'conv' ? layer.dilation : [1, 1];
        for (const axis of [0, 1]) {
          const expected = windowOutputSize(layer.inShape[axis + 1], layer.kernelSize[axis], layer.stride[axis], layer.padding[axis], dilation[axis]);
          assert.is(layer.outShape[axis + 1], expected, `'${layer.name}' output axis ${axis}`);
          assert.ok(expected >= 1, `'${layer.name}' output axis ${axis} is empty`);
        }
      }
      if (layer.type === 'conv') assert.equal(layer.weightShape, [layer.outChannels, layer.inShape[0], ...layer.kernelSize]);
      if (layer.type === 'linear') assert.equal(layer.weightShape, [layer.nOutputs, sampleSize(layer.inShape)]);
      shape = layer.outShape;
    }

    const last = network.layers[network.layers.length - 1];
    assert.is(last.type, 'linear');
    assert.equal(last.outShape, [network.nClass, 1, 1]);
  }
});

test('random networks respect the T limits', () => {
  for (const network of drawNetworks(2)) {
    assert.ok(network.nSteps >= 1, `T ${network.nSteps}`);
    assert.ok(network.nSteps <= 30, `T ${network.nSteps}`);
    if (network.loss === 'kernel') assert.ok(kernelLossSteps(30).includes(network.nSteps), `kernel loss with T ${network.nSteps}`);
  }
  const small = randomNetwork(new Rng(3), { maxSteps: 4 });
  assert.ok(small.nSteps <= 4, `T ${small.nSteps}`);
  assert.is.not(small.loss, 'kernel');
  assert.throws(() => randomNetwork(new Rng(3), { maxSteps: 4, loss: 'kernel' }), /maxSteps of at least 5/);
});

test('random networks cover every layer feature', () => {
  const seen = new Set<string>();
  for (const network of drawNetworks(4)) {
    seen.add(`loss ${network.loss}`);
    seen.add(`encoding ${network.inputEncoding}`);
    if (network.inputShape[1] % 2 === 1) seen.add('odd input');
    for (const layer of network.layers) {
      seen.add(layer.type);
      if (layer.type === 'conv') {
        if (layer.kernelSize[0] !== layer.kernelSize[1]) seen.add('rectangular kernel');
        if (layer.stride.some((value) => value > 1)) seen.add('conv stride');
        if (layer.padding.some((value) => value > 0)) seen.add('conv padding');
        if (layer.dilation.some((value) => value > 1)) seen.add('dilation');
      }
      if (layer.type === 'pooling' && layer.theta !== 1.1) seen.add('pooling theta');
      if (layer.type === 'pooling' && layer.padding.some((value) => value > 0)) seen.add('pooling padding');
    }
  }
  const features = [
    'loss kernel', 'loss count', 'loss softmax', 'encoding static', 'encoding events', 'odd input',
    'conv', 'linear', 'pooling', 'dropout', 'rectangular kernel', 'conv stride', 'conv padding',
    'dilation', 'pooling theta', 'pooling padding',
  ];
  for (const feature of features) assert.ok(seen.has(feature), `no random network has ${feature}`);
});

test('random networks have silent and spiking layers', async () => {
  const rng = new Rng(5);
  let silent = 0;
  let spiking = 0;
  for (let trial = 0; trial < 40; trial++) {
    const network = randomNetwork(rng, { maxSteps: 10 });
    const batch = randomBatch(rng, network, 2);
    const { activations } = await createReferenceEngine(network, { seed: trial }).forwardBackward(batch, {
      dropoutMasks: randomDropoutMasks(rng, network, 2),
      keepActivations: true,
    });
    for (const layer of network.layers.filter(isSynapse)) {
      if (activations![layer.name].some((value) => value > 0)) spiking++;
      else silent++;
    }
  }
  assert.ok(silent > 0, 'no silent layer');
  assert.ok(spiking > silent, `${spiking} spiking and ${silent} silent layers`);
});

test('random dropout masks use 0 or 1/(1-p)', () => {
  const rng = new Rng(6);
  let checked = 0;
  for (let trial = 0; trial < 50; trial++) {
    const network = randomNetwork(rng);
    const masks = randomDropoutMasks(rng, network, 3);
    for (const layer of network.layers) {
      if (layer.type !== 'dropout') continue;
      const mask = masks[layer.name];
      assert.is(mask.length, 3 * sampleSize(layer.inShape));
      const kept = Math.fround(1 / (1 - layer.p));
      assert.ok(mask.every((value) => value === 0 || value === kept), `'${layer.name}' mask values`);
      checked++;
    }
  }
  assert.ok(checked > 0, 'no dropout layer drawn');
});

test.run();
