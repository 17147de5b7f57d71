import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LossKind, Network } from '../../common/network';
import { desiredSpikePattern, kernelTarget, lossAndGradient } from '../../runtime/loss';
import { buildLinear, buildNetwork } from '../support/network-builder';

function outputNetwork(loss: LossKind, nClass: number, nSteps: number, tauS = 2): Network {
  return buildNetwork(
    { loss, nClass, nSteps, tauM: 5, tauS, desiredCount: 4, undesiredCount: 1, inputShape: [1, 1, 1] },
    [buildLinear('output', [1, 1, 1], { nOutputs: nClass })],
  );
}

function assertAllClose(actual: ArrayLike<number>, expected: number[], label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-6, `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('desired spike pattern per T', () => {
  assert.equal(Array.from(desiredSpikePattern(5)), [0, 1, 1, 1, 1]);
  assert.equal(Array.from(desiredSpikePattern(10)), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  assert.equal(Array.from(desiredSpikePattern(20)), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
});

test('desired spike pattern rejects other T', () => {
  for (const nSteps of [3, 7, 15, 25]) {
    assert.throws(() => desiredSpikePattern(nSteps), /multiple of 5 below 10/, `T = ${nSteps}`);
  }
});

test('kernel target filters twice', () => {
  // τs = 2. Once: a = 0, 1, 1.5, 1.75, 1.875, ψ = a/2 = 0, .5, .75, .875, .9375.
  // Twice: a = 0, .5, 1, 1.375, 1.625, ψ = 0, .25, .5, .6875, .8125.
  assertAllClose(kernelTarget(5, 2), [0, 0.25, 0.5, 0.6875, 0.8125], 'target');
});

test('kernel loss on silent outputs', () => {
  const network = outputNetwork('kernel', 2, 5);
  const outputPsp = new Float32Array(2 * 5);
  const { loss, grad } = lossAndGradient(network, outputPsp, Int32Array.from([0]), 1);
  const target = [0, 0.25, 0.5, 0.6875, 0.8125];
  assert.ok(Math.abs(loss - 0.5 * (0.0625 + 0.25 + 0.47265625 + 0.66015625)) < 1e-9, `loss ${loss}`);
  assertAllClose(grad, [...target.map((value) => -value), 0, 0, 0, 0, 0], 'grad');
});

test('kernel loss sums over the batch', () => {
  // Both samples put ψ = 1 on class 1 and 0 on class 0. Sample 0 (label 1) misses its
  // target by 1 - target on class 1. Sample 1 (label 0) misses the whole target on class 0
  // and misses 0 by 1 at all 5 steps of class 1.
  const network = outputNetwork('kernel', 2, 5);
  const outputPsp = Float32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  const target = [0, 0.25, 0.5, 0.6875, 0.8125];
  const firstSample = target.reduce((sum, value) => sum + 0.5 * (1 - value) ** 2, 0);
  const secondSample = target.reduce((sum, value) => sum + 0.5 * value ** 2, 0) + 0.5 * 5;

  const { loss } = lossAndGradient(network, outputPsp, Int32Array.from([1, 0]), 2);
  assert.ok(Math.abs(loss - (firstSample + secondSample)) < 1e-9, `loss ${loss}`);
});

test('count loss with the zeroing rules', () => {
  // T = 5, desired 4, undesired 1. Sample 0 (label 0): counts 2, 3, 0.5 give δ = -0.4, 0.4, 0
  // (class 2 is below its target). Sample 1 (label 1): counts 1, 5, 2 give δ = 0 (at the
  // undesired target), 0 (above the desired one), 0.2.
  const network = outputNetwork('count', 3, 5);
  const perStep = [0.4, 0.6, 0.1, 0.2, 1, 0.4];
  const outputPsp = new Float32Array(2 * 3 * 5);
  perStep.forEach((value, row) => outputPsp.fill(value, row * 5, row * 5 + 5));

  const { loss, grad } = lossAndGradient(network, outputPsp, Int32Array.from([0, 1]), 2);
  assert.ok(Math.abs(loss - 0.5 * 5 * (0.16 + 0.16 + 0.04)) < 1e-6, `loss ${loss}`);
  const deltas = [-0.4, 0.4, 0, 0, 0, 0.2];
  assertAllClose(grad, deltas.flatMap((delta) => [delta, delta, delta, delta, delta]), 'grad');
});

test('softmax loss averages over the batch', () => {
  // T = 2. Sample 0: counts [1, 0], label 0. Sample 1: counts [0, 0], label 1.
  const network = outputNetwork('softmax', 2, 2);
  const outputPsp = Float32Array.from([0.5, 0.5, 0, 0, 0, 0, 0, 0]);
  const { loss, grad } = lossAndGradient(network, outputPsp, Int32Array.from([0, 1]), 2);

  const p0 = Math.E / (Math.E + 1);
  const expectedLoss = (-Math.log(p0) + Math.log(2)) / 2;
  assert.ok(Math.abs(loss - expectedLoss) < 1e-9, `loss ${loss} vs ${expectedLoss}`);
  const expectedGrad = [(p0 - 1) / 2, (1 - p0) / 2, 0.5 / 2, (0.5 - 1) / 2];
  assertAllClose(grad, expectedGrad.flatMap((value) => [value, value]), 'grad');
});

test('loss rejects out-of-range labels', () => {
  const network = outputNetwork('count', 3, 5);
  assert.throws(() => lossAndGradient(network, new Float32Array(15), Int32Array.from([3]), 1), /label 3 of sample 0/);
});

test('loss rejects a wrongly sized output', () => {
  const network = outputNetwork('count', 3, 5);
  assert.throws(() => lossAndGradient(network, new Float32Array(14), Int32Array.from([0]), 1), /14 values/);
});

test.run();
