// Generated kernels against the reference engine on random small networks (conv strides,
// padding, dilation, pooling, dropout, both encodings, every loss, T up to 30): output PSPs,
// every activation, loss, weight gradients and the weights and moments after two AdamW steps.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileInMemory } from '../../compiler/compile';
import type { Engine } from '../../runtime/engine';
import { createEngine, type GeneratedKernels } from '../../runtime/gpu/engine';
import type { Manifest } from '../../runtime/gpu/manifest';
import { createReferenceEngine } from '../../runtime/reference';
import { Rng } from '../../runtime/rng';
import { assertTensorsClose } from '../support/tensors';
import { randomBatch, randomDropoutMasks, randomNetwork } from '../support/random-network';

const TOLERANCE = 1e-4;
const NETWORKS = 12;
const LEARNING_RATE = 0.01;

async function compileEngine(seed: number, backend: 'cpu' | 'webasm') {
  const rng = new Rng(seed);
  const network = randomNetwork(rng);
  const { manifest } = compileInMemory(network);
  const kernels: GeneratedKernels = {};
  for (const kernel of manifest.kernels) kernels[kernel.name] = new Function(`return ${kernel.source}`)();
  // One spare sample checks that a batch smaller than the engine's is padded correctly.
  const engine: Engine = await createEngine(manifest as Manifest, kernels, { gpu: new GPU({ mode: backend }), backend, batchSize: network.batchSize + 1 });
  const reference = createReferenceEngine(network, { seed });
  engine.setWeights(reference.getWeights());
  const size = network.batchSize;
  return { engine, reference, batch: randomBatch(rng, network, size), masks: randomDropoutMasks(rng, network, size) };
}

for (let seed = 1; seed <= NETWORKS; seed++) {
  const backend = seed % 2 === 0 ? 'cpu' : 'webasm';
  test(`random network ${seed} on ${backend}`, async () => {
    const { engine, reference, batch, masks } = await compileEngine(seed, backend);

    const actual = await engine.forwardBackward(batch, { dropoutMasks: masks, keepActivations: true });
    const expected = await reference.forwardBackward(batch, { dropoutMasks: masks, keepActivations: true });
    assertTensorsClose({ output: actual.outputPsp }, { output: expected.outputPsp }, 'output PSP');
    assertTensorsClose(actual.activations ?? {}, expected.activations ?? {}, 'activation');
    assertTensorsClose(actual.weightGrads, expected.weightGrads, 'weight gradient');
    assert.ok(Math.abs(actual.loss - expected.loss) <= TOLERANCE * Math.max(1, Math.abs(expected.loss)), `loss ${actual.loss} against ${expected.loss}`);

    // Two steps, so per-step values (bias corrections, clipping scale) must not be frozen after the first.
    for (let stepIndex = 1; stepIndex <= 2; stepIndex++) {
      const step = await engine.trainStep(batch, LEARNING_RATE, { dropoutMasks: masks });
      const referenceStep = await reference.trainStep(batch, LEARNING_RATE, { dropoutMasks: masks });
      assert.ok(Math.abs(step.loss - referenceStep.loss) <= TOLERANCE * Math.max(1, Math.abs(referenceStep.loss)), `step ${stepIndex} loss ${step.loss} against ${referenceStep.loss}`);
      assert.ok(Math.abs(step.gradNorm - referenceStep.gradNorm) <= TOLERANCE * Math.max(1, referenceStep.gradNorm), `step ${stepIndex} gradient norm ${step.gradNorm} against ${referenceStep.gradNorm}`);
      assertTensorsClose(engine.getWeights(), reference.getWeights(), `weight after step ${stepIndex}:`);
      assertTensorsClose(engine.getOptimizerState().m, reference.getOptimizerState().m, `first moment after step ${stepIndex}:`);
      assertTensorsClose(engine.getOptimizerState().v, reference.getOptimizerState().v, `second moment after step ${stepIndex}:`);
      assert.is(engine.getOptimizerState().step, stepIndex);
    }

    const withoutActivations = await engine.forwardBackward(batch, { dropoutMasks: masks });
    const referenceWithout = await reference.forwardBackward(batch, { dropoutMasks: masks });
    assertTensorsClose(withoutActivations.weightGrads, referenceWithout.weightGrads, 'weight gradient after training');

    const evaluated = await engine.forward(batch);
    const referenceEvaluated = await reference.forward(batch);
    assertTensorsClose({ output: evaluated }, { output: referenceEvaluated }, 'evaluation output PSP');
    engine.dispose();
  });
}

test.run();
