// A webasm pipeline whose barrier stalls: the engine logs one line and runs that training step
// and the later ones kernel by kernel, with the same results as an engine whose pipelines work.

import { GPU } from 'gpu.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileInMemory } from '../../compiler/compile';
import { createEngine, type GeneratedKernels } from '../../runtime/gpu/engine';
import type { Manifest } from '../../runtime/gpu/manifest';
import { Rng } from '../../runtime/rng';
import { buildConv, buildLinear, buildNetwork, buildPooling } from '../support/network-builder';
import { randomBatch } from '../support/random-network';
import { assertTensorsClose } from '../support/tensors';

const STALL = 'pipeline threaded barrier stalled at generation 3 of 12 for 60000ms';

function network() {
  const conv = buildConv('conv_1', [1, 8, 8], { outChannels: 2, kernelSize: [3, 3], weightScale: 4, threshold: 0.5 });
  const pool = buildPooling('pooling_1', conv.outShape, { kernelSize: [2, 2] });
  const output = buildLinear('output', pool.outShape, { nOutputs: 2, weightScale: 2, threshold: 0.5 });
  return buildNetwork({ nSteps: 5, tauM: 5, tauS: 3, loss: 'kernel', nClass: 2, batchSize: 2, inputShape: [1, 8, 8] }, [conv, pool, output]);
}

/** Returns a webasm GPU whose pipelines all reject as a stalled barrier does, and counts the runs. */
function stallingGpu(): { gpu: GPU; runs: () => number } {
  const gpu = new GPU({ mode: 'webasm' });
  let runs = 0;
  (gpu as unknown as { createPipeline: unknown }).createPipeline = () => async () => {
    runs += 1;
    throw new Error(STALL);
  };
  return { gpu, runs: () => runs };
}

test('stalled pipeline falls back to kernels', async () => {
  const net = network();
  const { manifest } = compileInMemory(net);
  const kernels: GeneratedKernels = {};
  for (const kernel of manifest.kernels) kernels[kernel.name] = new Function(`return ${kernel.source}`)();
  const logged: string[] = [];
  const stalling = stallingGpu();
  const fallback = await createEngine(manifest as Manifest, kernels, { gpu: stalling.gpu, backend: 'webasm', batchSize: net.batchSize, log: (line) => logged.push(line) });
  const working = await createEngine(manifest as Manifest, kernels, { gpu: new GPU({ mode: 'webasm' }), backend: 'webasm', batchSize: net.batchSize });
  working.setWeights(fallback.getWeights());

  const rng = new Rng(5);
  for (let step = 0; step < 2; step++) {
    const batch = randomBatch(rng, net, net.batchSize);
    const actual = await fallback.trainStep(batch, 0.01);
    const expected = await working.trainStep(batch, 0.01);
    assert.ok(Math.abs(actual.loss - expected.loss) <= 1e-4 * Math.max(1, Math.abs(expected.loss)), `loss ${actual.loss} against ${expected.loss}`);
    assertTensorsClose(fallback.getWeights(), working.getWeights(), `weight after step ${step + 1}:`);
  }

  assert.is(stalling.runs(), 1);
  assert.equal(logged, [`engine: ${STALL}; running kernel by kernel from now on`]);
  assert.is(fallback.getOptimizerState().step, 2);
  fallback.dispose();
  working.dispose();
});

test.run();
