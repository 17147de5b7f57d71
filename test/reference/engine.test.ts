import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isSynapse, sampleSize, type Network } from '../../common/network';
import { initialWeights } from '../../runtime/init';
import { createReferenceEngine } from '../../runtime/reference';
import { Rng } from '../../runtime/rng';
import { buildConv, buildDropout, buildLinear, buildNetwork } from '../support/network-builder';
import { randomBatch, randomDropoutMasks, randomNetwork } from '../support/random-network';

/** conv → dropout → linear output, small enough to read any tensor by eye. */
function dropoutNetwork(): Network {
  return buildNetwork({ nSteps: 5, tauM: 5, tauS: 3, loss: 'count', nClass: 3, inputShape: [1, 4, 4] }, [
    buildConv('conv', [1, 4, 4], { outChannels: 2, kernelSize: [3, 3], padding: [1, 1], weightScale: 3 }),
    buildDropout('dropout', [2, 4, 4], 0.5),
    buildLinear('output', [2, 4, 4], { nOutputs: 3, weightScale: 2 }),
  ]);
}

test('engine starts from the seeded initial weights', () => {
  const network = dropoutNetwork();
  const weights = createReferenceEngine(network, { seed: 7 }).getWeights();
  const expected = initialWeights(network, new Rng(7));
  assert.equal(Object.keys(weights), ['conv', 'output']);
  assert.equal(Array.from(weights.conv), Array.from(expected.conv));
  assert.equal(Array.from(weights.output), Array.from(expected.output));
});

test('getWeights returns a copy', () => {
  const engine = createReferenceEngine(dropoutNetwork());
  const weights = engine.getWeights();
  const before = weights.conv[0];
  weights.conv[0] = 123;
  assert.is(engine.getWeights().conv[0], before);
});

test('setWeights rejects a wrong size', () => {
  const engine = createReferenceEngine(dropoutNetwork());
  const weights = engine.getWeights();
  weights.conv = new Float32Array(5);
  assert.throws(() => engine.setWeights(weights), /layer 'conv' has 5 values but shape \[2, 1, 3, 3\] needs 18/);
});

test('setWeights rejects unknown and missing layers', () => {
  const engine = createReferenceEngine(dropoutNetwork());
  const weights = engine.getWeights();
  assert.throws(() => engine.setWeights({ ...weights, dropout: new Float32Array(1) }), /'dropout' is not a trainable layer/);
  assert.throws(() => engine.setWeights({ conv: weights.conv }), /missing layer 'output'/);
});

test('engine rejects a short input', async () => {
  const engine = createReferenceEngine(dropoutNetwork());
  const batch = { size: 2, input: new Float32Array(20), labels: Int32Array.from([0, 1]) };
  try {
    await engine.forwardBackward(batch);
    assert.unreachable('forwardBackward accepted 20 input values for 2 samples');
  } catch (error) {
    assert.match((error as Error).message, /has 20 values but 2 samples of static input \[1, 4, 4\] need 32/);
  }
});

test('forward equals forwardBackward without dropout', async () => {
  const network = dropoutNetwork();
  const engine = createReferenceEngine(network, { seed: 3 });
  const batch = randomBatch(new Rng(4), network, 3);
  const evaluated = await engine.forward(batch);
  const { outputPsp } = await engine.forwardBackward(batch);
  assert.equal(Array.from(evaluated), Array.from(outputPsp));
});

test('dropout mask is shared over time', async () => {
  const network = dropoutNetwork();
  const engine = createReferenceEngine(network, { seed: 3 });
  const rng = new Rng(5);
  const batch = randomBatch(rng, network, 2);
  const masks = randomDropoutMasks(rng, network, 2);
  const { activations } = await engine.forwardBackward(batch, { dropoutMasks: masks, keepActivations: true });

  const conv = activations!.conv;
  const dropped = activations!.dropout;
  const nSteps = network.nSteps;
  for (let neuron = 0; neuron < masks.dropout.length; neuron++) {
    for (let t = 0; t < nSteps; t++) {
      const i = neuron * nSteps + t;
      assert.ok(Math.abs(dropped[i] - conv[i] * masks.dropout[neuron]) < 1e-6, `neuron ${neuron} step ${t}`);
    }
  }
});

test('dropout mask of ones is the identity', async () => {
  const network = dropoutNetwork();
  const engine = createReferenceEngine(network, { seed: 3 });
  const batch = randomBatch(new Rng(6), network, 2);
  const ones = { dropout: new Float32Array(2 * 2 * 4 * 4).fill(1) };
  const masked = await engine.forwardBackward(batch, { dropoutMasks: ones });
  const plain = await engine.forwardBackward(batch);
  assert.equal(Array.from(masked.outputPsp), Array.from(plain.outputPsp));
  assert.equal(Array.from(masked.weightGrads.conv), Array.from(plain.weightGrads.conv));
});

test('dropout mask of zeros stops the gradient', async () => {
  const network = dropoutNetwork();
  const engine = createReferenceEngine(network, { seed: 3 });
  const batch = randomBatch(new Rng(6), network, 2);
  const plain = await engine.forwardBackward(batch);
  assert.ok(plain.weightGrads.conv.some((value) => value !== 0), 'the unmasked conv gradient should not be all zero');

  const zeros = { dropout: new Float32Array(2 * 2 * 4 * 4) };
  const masked = await engine.forwardBackward(batch, { dropoutMasks: zeros });
  assert.ok(masked.weightGrads.conv.every((value) => value === 0));
});

test('static input equals constant events', async () => {
  const settings = { nSteps: 6, tauM: 4, tauS: 2.5, loss: 'softmax' as const, nClass: 2, inputShape: [1, 3, 3] as [number, number, number] };
  const layers = [buildLinear('output', [1, 3, 3], { nOutputs: 2, weightScale: 4 })];
  const staticNetwork = buildNetwork({ ...settings, inputEncoding: 'static' }, layers);
  const eventNetwork = buildNetwork({ ...settings, inputEncoding: 'events' }, layers);

  const batch = randomBatch(new Rng(8), staticNetwork, 2);
  const events = new Float32Array(batch.input.length * settings.nSteps);
  batch.input.forEach((value, neuron) => events.fill(value, neuron * settings.nSteps, (neuron + 1) * settings.nSteps));

  const fromStatic = await createReferenceEngine(staticNetwork).forwardBackward(batch);
  const fromEvents = await createReferenceEngine(eventNetwork).forwardBackward({ ...batch, input: events });
  for (let i = 0; i < fromStatic.outputPsp.length; i++) {
    assert.ok(Math.abs(fromStatic.outputPsp[i] - fromEvents.outputPsp[i]) < 1e-6, `output ${i}`);
  }
});

test('random networks give shaped, finite results', async () => {
  const rng = new Rng(21);
  for (let trial = 0; trial < 30; trial++) {
    const network = randomNetwork(rng, { maxSteps: 12 });
    const size = 1 + rng.integer(3);
    const batch = randomBatch(rng, network, size);
    const engine = createReferenceEngine(network, { seed: trial });
    const result = await engine.forwardBackward(batch, {
      dropoutMasks: randomDropoutMasks(rng, network, size),
      keepActivations: true,
    });

    assert.ok(Number.isFinite(result.loss), `trial ${trial}: loss ${result.loss}`);
    assert.is(result.outputPsp.length, size * network.nClass * network.nSteps, `trial ${trial}: output size`);
    assert.is(result.activations!.input_psp.length, size * sampleSize(network.inputShape) * network.nSteps);
    for (const layer of network.layers) {
      const activation = result.activations![layer.name];
      assert.is(activation.length, size * sampleSize(layer.outShape) * network.nSteps, `trial ${trial}: '${layer.name}' size`);
      if (!isSynapse(layer)) continue;
      const grad = result.weightGrads[layer.name];
      assert.is(grad.length, layer.weightShape.reduce((a, b) => a * b, 1), `trial ${trial}: '${layer.name}' gradient size`);
      assert.ok(grad.every(Number.isFinite), `trial ${trial}: '${layer.name}' gradient finite`);
    }
  }
});

test.run();
