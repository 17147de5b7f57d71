import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { goldenWeights, relativeError } from '../../runtime/golden';
import { createReferenceEngine } from '../../runtime/reference';
import { loadGoldenCases } from '../support/golden-cases';

const TOLERANCE = 1e-4;

for (const { file, golden, network } of loadGoldenCases()) {
  test(`reference engine matches ${file}`, async () => {
    const engine = createReferenceEngine(network);
    engine.setWeights(goldenWeights(golden));
    const result = await engine.forwardBackward(
      { size: golden.batch, input: golden.images, labels: golden.labels },
      { keepActivations: true },
    );

    for (const [name, expected] of Object.entries(golden.activations)) {
      const actual = result.activations?.[name];
      assert.ok(actual, `activation '${name}' missing`);
      const error = relativeError(actual, expected.data);
      assert.ok(error <= TOLERANCE, `activation '${name}': relative error ${error}`);
    }

    const lossError = Math.abs(result.loss - golden.loss) / Math.abs(golden.loss);
    assert.ok(lossError <= TOLERANCE, `loss ${result.loss}, expected ${golden.loss}`);

    for (const [name, expected] of Object.entries(golden.weightGrads)) {
      const actual = result.weightGrads[name];
      assert.ok(actual, `weight gradient '${name}' missing`);
      const error = relativeError(actual, expected.data);
      assert.ok(error <= TOLERANCE, `weight gradient '${name}': relative error ${error}`);
    }
  });
}

test.run();
