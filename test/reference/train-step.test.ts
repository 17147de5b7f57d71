import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LossKind, Network } from '../../common/network';
import { NonFiniteError } from '../../runtime/engine';
import { createReferenceEngine } from '../../runtime/reference';
import { Rng } from '../../runtime/rng';
import { buildConv, buildLinear, buildNetwork, buildPooling } from '../support/network-builder';
import { randomBatch } from '../support/random-network';

const STEPS = 20;
const LEARNING_RATE = 0.05;

function mlp(loss: LossKind): Network {
  return buildNetwork({ nSteps: 10, tauM: 5, tauS: 3, loss, nClass: 3, inputShape: [1, 4, 4] }, [
    buildLinear('hidden', [1, 4, 4], { nOutputs: 10 }),
    buildLinear('output', [10, 1, 1], { nOutputs: 3, weightScale: 2 }),
  ]);
}

function cnn(): Network {
  return buildNetwork({ nSteps: 5, tauM: 5, tauS: 3, loss: 'count', nClass: 3, inputShape: [1, 5, 5] }, [
    buildConv('conv', [1, 5, 5], { outChannels: 3, kernelSize: [3, 3], padding: [1, 1], weightScale: 2 }),
    buildPooling('pool', [3, 5, 5], { kernelSize: [2, 2] }),
    buildLinear('output', [3, 2, 2], { nOutputs: 3, weightScale: 2 }),
  ]);
}

const cases: [string, Network][] = [
  ['mlp kernel', mlp('kernel')],
  ['mlp count', mlp('count')],
  ['mlp softmax', mlp('softmax')],
  ['cnn count', cnn()],
];

for (const [name, network] of cases) {
  test(`trainStep lowers the ${name} loss`, async () => {
    const engine = createReferenceEngine(network, { seed: 1 });
    const batch = randomBatch(new Rng(3), network, 4);
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) losses.push((await engine.trainStep(batch, LEARNING_RATE)).loss);

    const lastLosses = losses.slice(-3).reduce((sum, loss) => sum + loss, 0) / 3;
    assert.ok(lastLosses < 0.6 * losses[0], `loss went from ${losses[0]} to ${losses.slice(-3).join(', ')}`);
  });
}

test('trainStep resumes from saved state', async () => {
  const network = mlp('count');
  const batch = randomBatch(new Rng(3), network, 4);
  const first = createReferenceEngine(network, { seed: 1 });
  await first.trainStep(batch, LEARNING_RATE);
  await first.trainStep(batch, LEARNING_RATE);

  const second = createReferenceEngine(network, { seed: 99 });
  second.setWeights(first.getWeights());
  second.setOptimizerState(first.getOptimizerState());
  const fromFirst = await first.trainStep(batch, LEARNING_RATE);
  const fromSecond = await second.trainStep(batch, LEARNING_RATE);

  assert.is(fromSecond.loss, fromFirst.loss);
  assert.is(second.getOptimizerState().step, 3);
  assert.equal(Array.from(second.getWeights().hidden), Array.from(first.getWeights().hidden));
});

test('trainStep reports the norm before clipping', async () => {
  const network = mlp('count');
  const batch = randomBatch(new Rng(3), network, 4);
  const engine = createReferenceEngine(network, { seed: 1 });
  const { weightGrads } = await engine.forwardBackward(batch);
  let squaredNorm = 0;
  for (const grad of Object.values(weightGrads)) for (const value of grad) squaredNorm += value * value;

  const { gradNorm } = await engine.trainStep(batch, LEARNING_RATE);
  assert.ok(Math.abs(gradNorm - Math.sqrt(squaredNorm)) < 1e-9 * Math.max(1, gradNorm), `${gradNorm}`);
});

test('trainStep raises NonFiniteError naming the layer', async () => {
  const network = mlp('count');
  const engine = createReferenceEngine(network, { seed: 1 });
  const weights = engine.getWeights();
  weights.hidden[0] = NaN;
  engine.setWeights(weights);

  let error: unknown;
  try {
    await engine.trainStep(randomBatch(new Rng(3), network, 4), LEARNING_RATE);
  } catch (caught) {
    error = caught;
  }
  assert.instance(error, NonFiniteError);
  assert.is((error as NonFiniteError).where, 'hidden');
  assert.equal(Array.from(engine.getWeights().output), Array.from(weights.output));
  assert.is(engine.getOptimizerState().step, 0);
});

test.run();
