import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../runtime/rng';
import { drawDropoutMasks, evaluate, formatConfusion, predictClasses } from '../../runtime/train';
import { buildLinear, buildNetwork } from '../support/network-builder';
import { PatternDataset, referenceEngine, tinyNetwork } from './fixtures';

test('prediction uses summed PSPs, not the peak', () => {
  // [batch 2, classes 2, 1, 1, T 3]: class 0 has the highest single value, class 1 the larger sum.
  const outputPsp = Float32Array.from([
    0.9, 0, 0, /* class 1 */ 0.4, 0.4, 0.4,
    /* sample 2 */ 0.5, 0.5, 0.5, /* class 1 */ 0, 0, 1.2,
  ]);
  assert.equal(Array.from(predictClasses(outputPsp, 2, 2, 3)), [1, 0]);
});

test('prediction ties go to the lower class', () => {
  const outputPsp = Float32Array.from([0.2, 0.3, 0.3, 0.2, 0, 0]);
  assert.equal(Array.from(predictClasses(outputPsp, 1, 3, 2)), [0]);
});

test('prediction rejects a short output', () => {
  assert.throws(() => predictClasses(new Float32Array(5), 1, 2, 3), /expected 1×2×3/);
});

test('confusion counts sum to the test size', async () => {
  const network = tinyNetwork();
  const engine = referenceEngine(network);
  const dataset = new PatternDataset('pattern test', 11, 2);
  const evaluation = await evaluate(engine, dataset, { batchSize: 4 });
  assert.ok(evaluation !== null);
  const counts = evaluation!.confusion.flat();
  assert.is(counts.reduce((a, b) => a + b, 0), 11);
  assert.is(evaluation!.examples, 11);

  const rowTotals = evaluation!.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const expectedRows = [0, 1, 2].map((c) => Array.from({ length: 11 }, (_, i) => i % 3).filter((label) => label === c).length);
  assert.equal(rowTotals, expectedRows);

  const correct = evaluation!.confusion.reduce((sum, row, c) => sum + row[c], 0);
  assert.is(evaluation!.accuracy, correct / 11);
});

test('evaluation matches predictions of single forward passes', async () => {
  const network = tinyNetwork();
  const engine = referenceEngine(network);
  const dataset = new PatternDataset('pattern test', 6, 2);
  const evaluation = await evaluate(engine, dataset, { batchSize: 4, limit: 5 });

  let correct = 0;
  for (let i = 0; i < 5; i++) {
    const input = new Float32Array(9);
    dataset.write(i, input, 0);
    const psp = await engine.forward({ size: 1, input, labels: Int32Array.of(dataset.label(i)) });
    if (predictClasses(psp, 1, 3, network.nSteps)[0] === dataset.label(i)) correct++;
  }
  assert.is(evaluation!.examples, 5);
  assert.is(evaluation!.accuracy, correct / 5);
});

test('evaluation stops when the signal aborts', async () => {
  const controller = new AbortController();
  controller.abort();
  const result = await evaluate(referenceEngine(tinyNetwork()), new PatternDataset('t', 8, 2), {
    batchSize: 4,
    signal: controller.signal,
  });
  assert.is(result, null);
});

test('dropout masks hold 0 or 1/(1-p) per sample and neuron', () => {
  const network = tinyNetwork();
  const masks = drawDropoutMasks(network, 3, new Rng(1));
  assert.ok(masks !== undefined);
  const mask = masks!.dropout_1;
  assert.is(mask.length, 3 * 2 * 2 * 2);
  const keptValue = Math.fround(1 / 0.7);
  for (const value of mask) assert.ok(value === 0 || value === keptValue, `mask value ${value}`);
  assert.ok(mask.includes(0), 'some neurons are dropped');
  assert.ok(mask.includes(keptValue), 'some neurons are kept');
});

test('dropout masks absent without dropout layers', () => {
  const network = buildNetwork(
    { nSteps: 5, tauM: 5, tauS: 3, loss: 'kernel', nClass: 2, inputShape: [1, 2, 2] },
    [buildLinear('output', [1, 2, 2], { nOutputs: 2 })],
  );
  const rng = new Rng(4);
  const before = rng.getState();
  assert.is(drawDropoutMasks(network, 2, rng), undefined);
  assert.equal(rng.getState(), before);
});

test('confusion table lists classes as rows and columns', () => {
  const table = formatConfusion(
    [
      [5, 1],
      [0, 4],
    ],
    ['cat', 'dog'],
  );
  const lines = table.split('\n');
  assert.is(lines.length, 4);
  assert.match(lines[1], /cat\s+dog/);
  assert.match(lines[2], /^cat\s+5\s+1$/);
  assert.match(lines[3], /^dog\s+0\s+4$/);
});

test.run();
