// Generated kernels against the reference vectors: activations, loss and weight gradients of
// every case on the cpu and webasm backends, within 1e-4 of each tensor's largest magnitude.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileNetwork } from '../../compiler/compile';
import { goldenWeights, relativeError } from '../../runtime/golden';
import { openEngine } from '../../runtime/load';
import { loadGoldenCases } from '../support/golden-cases';

const TOLERANCE = 1e-4;
const workDir = mkdtempSync(path.join(os.tmpdir(), 'snnc-golden-'));

for (const { file, golden, network } of loadGoldenCases()) {
  const generatedDir = path.join(workDir, path.basename(file, '.json'));

  for (const backend of ['cpu', 'webasm'] as const) {
    test(`${file} on ${backend}`, async () => {
      await compileNetwork(network, { outDir: generatedDir, dumpIr: false, printIrAfterAll: false, log: () => {} });
      const engine = await openEngine(generatedDir, { backend, batchSize: golden.batch });
      assert.is(engine.backend, backend);
      engine.setWeights(goldenWeights(golden));

      const result = await engine.forwardBackward({ size: golden.batch, input: golden.images, labels: golden.labels }, { keepActivations: true });
      for (const [name, expected] of Object.entries(golden.activations)) {
        const actual = result.activations?.[name];
        assert.ok(actual !== undefined, `activation ${name} is missing`);
        const error = relativeError(actual, expected.data);
        assert.ok(error <= TOLERANCE, `activation ${name}: relative error ${error}`);
      }
      for (const [name, expected] of Object.entries(golden.weightGrads)) {
        const error = relativeError(result.weightGrads[name], expected.data);
        assert.ok(error <= TOLERANCE, `weight gradient ${name}: relative error ${error}`);
      }
      const lossError = Math.abs(result.loss - golden.loss) / Math.abs(golden.loss);
      assert.ok(lossError <= TOLERANCE, `loss ${result.loss} against ${golden.loss}`);
      engine.dispose();
    });
  }
}

test.after(() => rmSync(workDir, { recursive: true, force: true }));

test.run();
