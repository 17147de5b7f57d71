import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TensorMap } from '../../runtime/engine';
import { describeNonFinite, readCheckpoint, train, type RunSettings, type TrainOutcome } from '../../runtime/train';
import {
  failingEngine,
  interruptingEngine,
  patternData,
  referenceEngine,
  temporaryDirectory,
  tinyNetwork,
} from './fixtures';

const network = tinyNetwork();
const settings: RunSettings = { epochs: 2, batchSize: 4, lr: 0.01, seed: 3, limitTrain: null, limitTest: null };
// 24 training samples in batches of 4: 6 steps per epoch.
const STEPS_PER_EPOCH = 6;

function assertSameWeights(actual: TensorMap, expected: TensorMap): void {
  assert.equal(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const name of Object.keys(expected)) {
    assert.instance(actual[name], Float32Array);
    // Exact comparison: resuming must reproduce every bit.
    assert.equal(Array.from(actual[name]), Array.from(expected[name]), `layer ${name}`);
  }
}

async function uninterruptedRun(): Promise<{ weights: TensorMap; outcome: TrainOutcome; runDir: string }> {
  const engine = referenceEngine(network);
  const data = patternData();
  const runDir = temporaryDirectory();
  const outcome = await train({ engine, train: data.train!, test: data.test, classNames: ['a', 'b', 'c'], settings, runDir });
  return { weights: engine.getWeights(), outcome, runDir };
}

const baseline = uninterruptedRun();

test('training changes the weights and records each epoch', async () => {
  const { weights, outcome, runDir } = await baseline;
  assert.is(outcome.status, 'completed');
  assert.is(outcome.state.history.length, 2);
  assert.equal(outcome.state.history.map((entry) => entry.epoch), [1, 2]);
  assert.equal(outcome.state.history.map((entry) => entry.trainExamples), [24, 24]);

  const initial = referenceEngine(network);
  const { initialWeights } = await import('../../runtime/init');
  const { Rng } = await import('../../runtime/rng');
  initial.setWeights(initialWeights(network, new Rng(settings.seed)));
  assert.not.equal(Array.from(weights.output), Array.from(initial.getWeights().output));
  assertSameWeights(readCheckpoint(join(runDir, 'last.ckpt')).weights, weights);
});

test('resume after epoch 1 matches an uninterrupted run', async () => {
  const { weights: expected, outcome: expectedOutcome } = await baseline;
  const data = patternData();
  const runDir = temporaryDirectory();

  const first = await train({
    engine: referenceEngine(network),
    train: data.train!,
    test: data.test,
    classNames: [],
    settings: { ...settings, epochs: 1 },
    runDir,
  });
  assert.is(first.status, 'completed');

  const checkpoint = readCheckpoint(join(runDir, 'last.ckpt'));
  assert.is(checkpoint.state.epochsDone, 1);
  assert.is(checkpoint.state.batchesDone, 0);

  const engine = referenceEngine(network);
  const resumed = await train({
    engine,
    train: data.train!,
    test: data.test,
    classNames: [],
    settings: { ...checkpoint.settings, epochs: 2 },
    runDir,
    resume: checkpoint,
  });
  assert.is(resumed.status, 'completed');
  assertSameWeights(engine.getWeights(), expected);
  assert.equal(
    resumed.state.history.map((entry) => entry.testAccuracy),
    expectedOutcome.state.history.map((entry) => entry.testAccuracy),
  );

  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.map((line) => JSON.parse(line).epoch), [1, 2]);
});

for (const abortAt of [4, STEPS_PER_EPOCH, STEPS_PER_EPOCH + 2]) {
  test(`interrupt at step ${abortAt} resumes to the same weights`, async () => {
    const { weights: expected } = await baseline;
    const data = patternData();
    const runDir = temporaryDirectory();
    const controller = new AbortController();

    const stopped = await train({
      engine: interruptingEngine(referenceEngine(network), abortAt, controller),
      train: data.train!,
      test: data.test,
      classNames: [],
      settings,
      runDir,
      signal: controller.signal,
    });
    assert.is(stopped.status, 'interrupted');

    const checkpoint = readCheckpoint(join(runDir, 'last.ckpt'));
    // An abort on an epoch's last step stops before its evaluation, so that epoch is not done yet.
    const epochsDone = Math.floor((abortAt - 1) / STEPS_PER_EPOCH);
    assert.is(checkpoint.state.epochsDone, epochsDone);
    assert.is(checkpoint.state.batchesDone, abortAt - epochsDone * STEPS_PER_EPOCH);
    assert.ok(checkpoint.state.order !== null, 'a mid-epoch checkpoint carries the epoch order');

    const engine = referenceEngine(network);
    const resumed = await train({
      engine,
      train: data.train!,
      test: data.test,
      classNames: [],
      settings: checkpoint.settings,
      runDir,
      resume: checkpoint,
    });
    assert.is(resumed.status, 'completed');
    assertSameWeights(engine.getWeights(), expected);
    assert.is(resumed.state.history[resumed.state.history.length - 1].trainExamples, 24);
  });
}

test('non-finite step stops with epoch, batch and layer', async () => {
  const data = patternData();
  const runDir = temporaryDirectory();
  const failAt = STEPS_PER_EPOCH + 2;

  const outcome = await train({
    engine: failingEngine(referenceEngine(network), failAt, 'conv_1'),
    train: data.train!,
    test: data.test,
    classNames: [],
    settings,
    runDir,
  });
  assert.is(outcome.status, 'non-finite');
  if (outcome.status !== 'non-finite') return;
  assert.is(outcome.epoch, 2);
  assert.is(outcome.batch, 2);
  assert.is(
    describeNonFinite(outcome),
    `training stopped: non-finite value NaN in layer 'conv_1' at epoch 2, batch 2/6; the last good checkpoint is ` +
      `${join(runDir, 'last.ckpt')}. Lower the learning rate with --lr, or check the input data`,
  );

  const lastGood = readCheckpoint(join(runDir, 'last.ckpt'));
  assert.is(lastGood.state.epochsDone, 1);
  assert.is(lastGood.state.batchesDone, 0);
});

test('non-finite first step reports no checkpoint', async () => {
  const data = patternData();
  const outcome = await train({
    engine: failingEngine(referenceEngine(network), 1, 'loss'),
    train: data.train!,
    test: data.test,
    classNames: [],
    settings,
    runDir: temporaryDirectory(),
  });
  assert.is(outcome.status, 'non-finite');
  if (outcome.status !== 'non-finite') return;
  assert.match(describeNonFinite(outcome), /in the loss at epoch 1, batch 1\/6; no checkpoint was written before it/);
});

test('limits restrict training and test examples', async () => {
  const data = patternData();
  const outcome = await train({
    engine: referenceEngine(network),
    train: data.train!,
    test: data.test,
    classNames: [],
    settings: { ...settings, epochs: 1, limitTrain: 10, limitTest: 5 },
    runDir: temporaryDirectory(),
  });
  assert.is(outcome.status, 'completed');
  assert.is(outcome.state.history[0].trainExamples, 10);
  const confusion = outcome.state.best!.confusion;
  assert.is(confusion.flat().reduce((a, b) => a + b, 0), 5);
});

test('epoch line reads like the documented example', async () => {
  const { formatEpochLine } = await import('../../runtime/train');
  const line = formatEpochLine(
    {
      epoch: 3,
      trainLoss: 0.4123,
      trainAccuracy: 0.951,
      testAccuracy: 0.9735,
      bestAccuracy: 0.9735,
      bestEpoch: 3,
      seconds: 40,
      trainExamples: 8000,
      trainSeconds: 35,
      imagesPerSecond: 228,
    },
    20,
    134,
  );
  assert.is(line, 'epoch 3/20  train loss 0.412  train acc 95.10%  test acc 97.35%  best 97.35% (epoch 3)  elapsed 2m14s');
});

test.run();
