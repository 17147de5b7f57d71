// A NaN that reaches the loss or a weight gradient stops the training step with
// `NonFiniteError` naming a layer, before any weight changes.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileInMemory } from '../../compiler/compile';
import { NonFiniteError, type Engine, type TensorMap } from '../../runtime/engine';
import { createEngine, type GeneratedKernels } from '../../runtime/gpu/engine';
import type { Manifest } from '../../runtime/gpu/manifest';
import { loadGoldenCases } from '../support/golden-cases';

/** Compiles the small count-loss network of the reference cases and opens it on `gpu`. */
async function openGoldenEngine(gpu: GPU, backend: 'cpu' | 'webasm') {
  const { golden, network } = loadGoldenCases().find((entry) => entry.file === 'tiny_mlp_count.json') ?? loadGoldenCases()[0];
  const { manifest } = compileInMemory(network);
  const kernels: GeneratedKernels = {};
  for (const kernel of manifest.kernels) kernels[kernel.name] = new Function(`return ${kernel.source}`)();
  const engine = await createEngine(manifest as Manifest, kernels, { gpu, backend, batchSize: golden.batch });
  const batch = { size: golden.batch, input: golden.images, labels: golden.labels };
  return { engine, network, manifest, batch };
}

/** Checks that the engine's weights are `before` and that no optimiser step was counted. */
function assertUnchanged(engine: Engine, before: TensorMap): void {
  const after = engine.getWeights();
  for (const layer of Object.keys(before)) assert.equal(Array.from(after[layer]), Array.from(before[layer]), `weights of ${layer} changed`);
  assert.is(engine.getOptimizerState().step, 0);
}

for (const backend of ['cpu', 'webasm'] as const) {
  test(`NaN weights stop the step on ${backend}`, async () => {
    const { engine, network, batch } = await openGoldenEngine(new GPU({ mode: backend }), backend);
    const weights = engine.getWeights();
    const firstLayer = network.layers[0].name;
    weights[firstLayer] = weights[firstLayer].map(() => NaN);
    engine.setWeights(weights);
    const before = engine.getWeights();

    try {
      await engine.trainStep(batch, 0.001);
      assert.unreachable('a NaN weight must stop the step');
    } catch (error) {
      assert.instance(error, NonFiniteError);
      assert.ok(network.layers.some((layer) => layer.name === (error as NonFiniteError).where) || (error as NonFiniteError).where === 'loss', (error as Error).message);
    }
    assertUnchanged(engine, before);
    engine.dispose();
  });
}

test('NaN gradient with a finite loss keeps the weights on webasm', async () => {
  // The pipeline runs as usual, then one layer's partial sums of squares come back as NaN, as
  // they would after an overflow in that layer's gradient.
  const gpu = new GPU({ mode: 'webasm' });
  const createPipeline = gpu.createPipeline.bind(gpu) as (fn: unknown) => (...args: unknown[]) => Promise<Record<string, unknown>>;
  let poisonedBuffer = '';
  (gpu as unknown as { createPipeline: unknown }).createPipeline = (fn: unknown) => {
    const run = createPipeline(fn);
    return async (...args: unknown[]) => {
      const result = await run(...args);
      if (poisonedBuffer in result) result[poisonedBuffer] = new Float32Array((result[poisonedBuffer] as Float32Array).length).fill(NaN);
      return result;
    };
  };
  const { engine, manifest, batch } = await openGoldenEngine(gpu, 'webasm');
  const [poisonedLayer, buffer] = Object.entries(manifest.outputs.gradSquares)[0];
  poisonedBuffer = buffer;
  const before = engine.getWeights();

  try {
    await engine.trainStep(batch, 0.001);
    assert.unreachable('a NaN gradient must stop the step');
  } catch (error) {
    assert.instance(error, NonFiniteError);
    assert.is((error as NonFiniteError).where, poisonedLayer);
  }
  assertUnchanged(engine, before);
  engine.dispose();
});

test.run();
