// An engine opened with `profile: true` reports one time per scheduled device kernel of the
// last pass, and its training step matches an engine without profiling.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileInMemory } from '../../compiler/compile';
import { createEngine, type GeneratedKernels } from '../../runtime/gpu/engine';
import { loadGoldenCases } from '../support/golden-cases';

const { golden, network } = loadGoldenCases().find((entry) => entry.file === 'tiny_cnn_kernel.json') ?? loadGoldenCases()[0];
const { manifest } = compileInMemory(network);
const kernels: GeneratedKernels = {};
for (const kernel of manifest.kernels) kernels[kernel.name] = new Function(`return ${kernel.source}`)();
const batch = { size: golden.batch, input: golden.images, labels: golden.labels };

test('profiled step times every scheduled kernel', async () => {
  const engine = await createEngine(manifest, kernels, { gpu: new GPU({ mode: 'webasm' }), backend: 'webasm', batchSize: golden.batch, profile: true });
  await engine.trainStep(batch, 0.001);
  const profile = engine.lastStepProfile();
  const { forward, backward, optimizer } = manifest.schedule;
  const expected = [...forward, ...backward, ...optimizer].filter((name) => !name.startsWith('host:'));
  assert.equal(profile.map((entry) => entry.kernel), expected);
  for (const entry of profile) {
    assert.is(entry.calls, 1, entry.kernel);
    assert.ok(Number.isFinite(entry.ms), `${entry.kernel}: ${entry.ms}`);
    assert.ok(entry.ms >= 0, `${entry.kernel}: ${entry.ms}`);
  }
  engine.dispose();
});

test('profiled step matches a plain step', async () => {
  const plain = await createEngine(manifest, kernels, { gpu: new GPU({ mode: 'webasm' }), backend: 'webasm', batchSize: golden.batch });
  const profiled = await createEngine(manifest, kernels, { gpu: new GPU({ mode: 'webasm' }), backend: 'webasm', batchSize: golden.batch, profile: true });
  const plainStep = await plain.trainStep(batch, 0.001);
  const profiledStep = await profiled.trainStep(batch, 0.001);
  assert.is(profiledStep.loss, plainStep.loss);
  const plainWeights = plain.getWeights();
  const profiledWeights = profiled.getWeights();
  for (const layer of Object.keys(plainWeights)) assert.equal(Array.from(profiledWeights[layer]), Array.from(plainWeights[layer]), layer);
  plain.dispose();
  profiled.dispose();
});

test('lastStepProfile without profiling throws', async () => {
  const engine = await createEngine(manifest, kernels, { gpu: new GPU({ mode: 'cpu' }), backend: 'cpu', batchSize: golden.batch });
  assert.throws(() => (engine as unknown as { lastStepProfile(): unknown }).lastStepProfile(), /profile: true/);
  engine.dispose();
});

test.run();
