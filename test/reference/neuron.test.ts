import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeEventInput, encodeStaticInput, synapticFilter } from '../../runtime/reference/encoding';
import { lifBackward, lifForward, type NeuronParams } from '../../runtime/reference/lif';

function assertAllClose(actual: ArrayLike<number>, expected: number[], label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-6, `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('synaptic filter on a constant input', () => {
  // τs = 2: a = 1, 1.5, 1.75, so ψ = a/2.
  assertAllClose(synapticFilter([1, 1, 1], 2), [0.5, 0.75, 0.875], 'psp');
});

test('static encoding equals the recurrence', () => {
  const images = Float32Array.from([0.3, -1.2, 2.5]);
  const nSteps = 7;
  const tauS = 3;
  const events = new Float32Array(images.length * nSteps);
  for (let neuron = 0; neuron < images.length; neuron++) events.fill(images[neuron], neuron * nSteps, (neuron + 1) * nSteps);
  assertAllClose(encodeStaticInput(images, nSteps, tauS), Array.from(encodeEventInput(events, nSteps, tauS)), 'psp');
});

test('event encoding filters each neuron separately', () => {
  // Two neurons, T = 3, τs = 2: a spike at t = 0 only, and at t = 2 only.
  const events = Float32Array.from([1, 0, 0, 0, 0, 1]);
  assertAllClose(encodeEventInput(events, 3, 2), [0.5, 0.25, 0.125, 0, 0, 0.5], 'psp');
});

test('lif forward spikes, resets and filters', () => {
  // τm = 5 (θm = 0.2), V = 1, τs = 3, I = 0.6 at every step:
  // u = 0.6, then 0.6 - 0.12 + 0.6 = 1.08 > 1 (spike, reset), 0.6, 1.08 (spike), 0.6.
  const neuron: NeuronParams = { nSteps: 5, tauM: 5, tauS: 3, threshold: 1 };
  const trace = lifForward(new Float32Array(5).fill(0.6), neuron);
  assertAllClose(trace.du, [0.6, 0.48, 0.6, 0.48, 0.6], 'du');
  assertAllClose(trace.u, [0.6, 1.08, 0.6, 1.08, 0.6], 'u');
  assertAllClose(trace.o, [0, 1, 0, 1, 0], 'o');
  // s ← s + (o - s)/3: 0, 1/3, 2/9, 2/9 + 7/27, (13/27)·(2/3).
  assertAllClose(trace.psp, [0, 1 / 3, 2 / 9, 13 / 27, 26 / 81], 'psp');
});

test('lif forward threshold is strict', () => {
  const neuron: NeuronParams = { nSteps: 2, tauM: 5, tauS: 3, threshold: 1 };
  const trace = lifForward(Float32Array.from([1, 0]), neuron);
  assertAllClose(trace.o, [0, 0], 'o');
});

test('lif backward on spiking steps', () => {
  // τm = 2 (θm = 0.5), τs = 2, V = 1, so α = [1/2, 1/4, 1/8] and th = 1/8.
  // I = [1.2, 0.2, 1.2]: spike at t = 0 (δu 1.2), none at t = 1 (u 0.2, ψ 1/4),
  // spike at t = 2 (δu -0.1 + 1.2 = 1.1, u 1.3). g = 1 at every step.
  const neuron: NeuronParams = { nSteps: 3, tauM: 2, tauS: 2, threshold: 1 };
  const trace = lifForward(Float32Array.from([1.2, 0.2, 1.2]), neuron);
  assertAllClose(trace.o, [1, 0, 1], 'o');

  const grad = lifBackward(trace, Float32Array.from([1, 1, 1]), neuron);
  // t = 2: the inter-neuron term |∂u|·α0·g = (1/1.1)·(1/2), and Θ becomes 5/11.
  const grad2 = 0.5 / 1.1;
  // t = 1: no spike, so only the leak term Θ·(1 - θm); Θ decays to 5/22.
  const grad1 = grad2 * 0.5;
  // t = 0: the inter-neuron term (1/1.2)·(1/2 + 1/4 + 1/8), plus Θ·U·θm·|∂u| = (5/22)·1.2·0.5/1.2.
  const grad0 = 0.875 / 1.2 + grad1 * 0.5;
  assertAllClose(grad, [grad0, grad1, grad2], 'gradCurrent');
});

test('lif backward uses the surrogate when silent', () => {
  // τm = 4 (θm = 0.25), τs = 2, V = 1, I = [0.5, 0, 0]: u = 0.5, 0.375, 0.28125, never a spike.
  const neuron: NeuronParams = { nSteps: 3, tauM: 4, tauS: 2, threshold: 1 };
  const trace = lifForward(Float32Array.from([0.5, 0, 0]), neuron);
  assertAllClose(trace.u, [0.5, 0.375, 0.28125], 'u');

  const gradPsp = Float32Array.from([1, 2, 4]);
  // Σ α[k]·g[t+k] with α = [1/2, 1/4, 1/8].
  const pspGradSums = [0.5 * 1 + 0.25 * 2 + 0.125 * 4, 0.5 * 2 + 0.25 * 4, 0.5 * 4];
  const expected = [0.5, 0.375, 0.28125].map((u, t) => {
    const f = Math.exp((1 - u) / 0.2);
    return (pspGradSums[t] * f) / ((1 + f) ** 2 * 0.2);
  });
  assertAllClose(lifBackward(trace, gradPsp, neuron), expected, 'gradCurrent');
});

test('lif surrogate clamps its exponent', () => {
  // U = -2 is (1 + 2)/0.2 = 15 widths below V, clamped to 8.
  const neuron: NeuronParams = { nSteps: 1, tauM: 4, tauS: 2, threshold: 1 };
  const trace = lifForward(Float32Array.from([-2]), neuron);
  const f = Math.exp(8);
  assertAllClose(lifBackward(trace, Float32Array.from([1]), neuron), [(0.5 * f) / ((1 + f) ** 2 * 0.2)], 'gradCurrent');
});

test.run();
