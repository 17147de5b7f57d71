// End-to-end: `snnc compile` then `snnc run` on small Fashion-MNIST and CIFAR-10 files in the
// standard formats, checking every file of the run directory.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readCheckpoint, type Checkpoint } from '../../runtime/train';
import { cifarRecords, idxImages, idxLabels, patternImages, writeData } from '../data/fixtures';
import { compileSpec, describeResult, makeTempDir, readJson, readMetrics, repoRoot, snnc, snncOk, writeSpec } from './harness';

const RUN_FILES = [
  'config.json',
  'metrics.jsonl',
  'best.ckpt',
  'last.ckpt',
  'confusion.svg',
  'confusion.json',
  'curves.svg',
  'summary.json',
];

/**
 * CIFAR-10 network small enough for a test, 8C3-P2-16C3-P2-10 with padding 1 and dropout 0.2.
 * One epoch of specs/cifar10.yaml on 2 training and 2 test images at batch size 2 took
 * 4 min 14 s with `snnc run --backend webasm` on a busy two-core machine, so that spec is only
 * compiled here.
 */
const SMALL_CIFAR10_SPEC = `# Small CIFAR-10 network for the end-to-end tests: 8C3-P2-16C3-P2-10, T = 5.
Network:
  epochs: 1
  batch_size: 2
  n_steps: 5
  dataset: "CIFAR10"
  rule: "TSSLBP"
  lr: 0.0002
  loss: "kernel"
  n_class: 10
  tau_m: 5
  tau_s: 3
  model: "LIF"

Layers:
  conv_1:          # 3×32×32 -> 8×32×32
    type: "conv"
    in_channels: 3
    out_channels: 8
    kernel_size: 3
    padding: 1
    weight_scale: 5
    threshold: 1

  dropout_1:
    type: "dropout"
    p: 0.2

  pooling_1:       # -> 8×16×16
    type: "pooling"
    kernel_size: 2
    theta: 0.5

  conv_2:          # 8×16×16 -> 16×16×16
    type: "conv"
    in_channels: 8
    out_channels: 16
    kernel_size: 3
    padding: 1
    weight_scale: 5
    threshold: 1

  dropout_2:
    type: "dropout"
    p: 0.2

  pooling_2:       # -> 16×8×8
    type: "pooling"
    kernel_size: 2
    theta: 0.5

  output:
    type: "linear"
    n_inputs: 1024
    n_outputs: 10
    weight_scale: 1
    threshold: 1
`;

interface RunExpectation {
  specName: string;
  trainExamples: number;
  testLabels: number[];
  /** Element count of each layer's weights, from the spec: conv out×in×kh×kw, linear out×in. */
  weightSizes: Record<string, number>;
}

function countLabel(labels: number[], label: number): number {
  return labels.filter((candidate) => candidate === label).length;
}

function assertFraction(value: unknown, name: string): void {
  assert.type(value, 'number', `${name} is not a number`);
  assert.ok((value as number) >= 0, `${name} = ${value}, below 0`);
  assert.ok((value as number) <= 1, `${name} = ${value}, above 1`);
}

function assertSvg(file: string): void {
  const text = readFileSync(file, 'utf8').trim();
  assert.ok(text.startsWith('<svg'), `${file} does not start with <svg`);
  assert.ok(text.endsWith('</svg>'), `${file} does not end with </svg>`);
}

function assertCheckpoint(checkpoint: Checkpoint, expected: RunExpectation, file: string): void {
  assert.is(checkpoint.specName, expected.specName, `${file}: spec name`);
  assert.is(checkpoint.state.epochsDone, 1, `${file}: epochs done`);
  assert.is(checkpoint.state.batchesDone, 0, `${file}: batches done after a finished epoch`);
  assert.is(checkpoint.settings.batchSize, 2, `${file}: batch size`);
  assert.is(checkpoint.optimizer.step, Math.ceil(expected.trainExamples / 2), `${file}: AdamW steps`);

  const sizes = Object.fromEntries(Object.entries(checkpoint.weights).map(([layer, values]) => [layer, values.length]));
  assert.equal(sizes, expected.weightSizes, `${file}: weight tensors`);
  for (const [layer, values] of Object.entries(checkpoint.weights)) {
    assert.ok(values.every(Number.isFinite), `${file}: weights of ${layer} are not all finite`);
  }
}

/** Checks every file that one finished epoch leaves in `runDir`. */
function assertCompleteRunDir(runDir: string, expected: RunExpectation): void {
  for (const name of RUN_FILES) assert.ok(existsSync(path.join(runDir, name)), `${name} missing from the run directory`);

  const config = readJson(path.join(runDir, 'config.json')) as Record<string, any>;
  assert.is(config.specName, expected.specName);
  assert.is(config.backend, 'webasm');
  assert.is(config.settings.epochs, 1);
  assert.is(config.settings.batchSize, 2);

  const metrics = readMetrics(runDir);
  assert.is(metrics.length, 1, 'metrics.jsonl lines');
  const [epoch] = metrics;
  assert.is(epoch.epoch, 1);
  assert.is(epoch.trainExamples, expected.trainExamples);
  assert.ok(Number.isFinite(epoch.trainLoss), `train loss ${epoch.trainLoss} is not finite`);
  assert.ok(epoch.trainLoss >= 0, `train loss ${epoch.trainLoss} is negative`);
  assertFraction(epoch.trainAccuracy, 'train accuracy');
  assertFraction(epoch.testAccuracy, 'test accuracy');
  assert.is(epoch.bestAccuracy, epoch.testAccuracy, 'best accuracy after one epoch');
  assert.is(epoch.bestEpoch, 1);
  assert.ok(epoch.seconds > 0, `epoch time ${epoch.seconds} s is not positive`);
  assert.ok(epoch.imagesPerSecond > 0, `throughput ${epoch.imagesPerSecond} images/s is not positive`);

  const confusion = readJson(path.join(runDir, 'confusion.json')) as { matrix: number[][]; classNames: string[] };
  assert.is(confusion.matrix.length, 10, 'confusion rows');
  assert.is(confusion.classNames.length, 10, 'class names');
  confusion.matrix.forEach((row, label) => {
    assert.is(row.length, 10, `confusion row ${label} length`);
    const rowSum = row.reduce((sum, count) => sum + count, 0);
    assert.is(rowSum, countLabel(expected.testLabels, label), `test examples of class ${label}`);
  });
  const correct = confusion.matrix.reduce((sum, row, label) => sum + row[label], 0);
  assert.is(epoch.testAccuracy, correct / expected.testLabels.length, 'test accuracy equals the confusion diagonal');

  const summary = readJson(path.join(runDir, 'summary.json')) as Record<string, any>;
  assert.is(summary.specName, expected.specName);
  assert.is(summary.epochsCompleted, 1);
  assertFraction(summary.bestAccuracy, 'summary best accuracy');
  assertFraction(summary.finalAccuracy, 'summary final accuracy');
  assert.is(summary.finalAccuracy, epoch.testAccuracy);

  assertSvg(path.join(runDir, 'confusion.svg'));
  assertSvg(path.join(runDir, 'curves.svg'));

  const best = readCheckpoint(path.join(runDir, 'best.ckpt'));
  const last = readCheckpoint(path.join(runDir, 'last.ckpt'));
  assertCheckpoint(best, expected, 'best.ckpt');
  assertCheckpoint(last, expected, 'last.ckpt');
  for (const layer of Object.keys(last.weights)) {
    assert.equal(best.weights[layer], last.weights[layer], `best and last weights of ${layer} after the only epoch`);
  }
}

test('Fashion-MNIST spec trains on gzip IDX files', async () => {
  const { dir, remove } = makeTempDir();
  try {
    const trainLabels = [0, 1, 2, 3, 4, 5];
    const testLabels = [6, 7, 8, 9];
    const data = path.join(dir, 'fashion-mnist');
    writeData(data, 'train-images-idx3-ubyte.gz', idxImages(patternImages(trainLabels.length, 28 * 28), 28, 28));
    writeData(data, 'train-labels-idx1-ubyte.gz', idxLabels(trainLabels));
    writeData(data, 't10k-images-idx3-ubyte.gz', idxImages(patternImages(testLabels.length, 28 * 28).reverse(), 28, 28));
    writeData(data, 't10k-labels-idx1-ubyte.gz', idxLabels(testLabels));

    const generated = path.join(dir, 'generated', 'fashion-mnist');
    await compileSpec('specs/fashion-mnist.yaml', generated);
    const runDir = path.join(dir, 'run');
    const result = await snncOk(
      ['run', generated, '--data', data, '--epochs', '1', '--batch-size', '2', '--backend', 'webasm', '--out', runDir],
      repoRoot,
    );
    assert.match(result.stdout, `data: Fashion-MNIST IDX files in ${data}`);
    assert.match(result.stdout, /^backend: webasm/m);
    assert.match(result.stdout, /^epoch 1\/1 {2}train loss /m);

    assertCompleteRunDir(runDir, {
      specName: 'fashion-mnist',
      trainExamples: trainLabels.length,
      testLabels,
      weightSizes: { conv_1: 32 * 1 * 5 * 5, conv_2: 64 * 32 * 5 * 5, FC_1: 1024 * 1024, output: 10 * 1024 },
    });
  } finally {
    remove();
  }
});

test('small CIFAR-10 spec trains on binary batches', async () => {
  const { dir, remove } = makeTempDir();
  try {
    const data = path.join(dir, 'cifar10');
    const recordsPerBatch = 2;
    for (let k = 1; k <= 5; k++) {
      const labels = [2 * k - 2, 2 * k - 1];
      writeData(data, `data_batch_${k}.bin`, cifarRecords(labels, patternImages(recordsPerBatch, 3072)));
    }
    const testLabels = [3, 1, 4, 1];
    writeData(data, 'test_batch.bin', cifarRecords(testLabels, patternImages(testLabels.length, 3072).reverse()));

    const spec = writeSpec(dir, 'small-cifar10.yaml', SMALL_CIFAR10_SPEC);
    const generated = path.join(dir, 'generated', 'small-cifar10');
    await compileSpec(spec, generated);
    const runDir = path.join(dir, 'run');
    const result = await snncOk(
      ['run', generated, '--data', data, '--epochs', '1', '--batch-size', '2', '--backend', 'webasm', '--out', runDir],
      dir,
    );
    assert.match(result.stdout, `data: CIFAR-10 binary batches in ${data}`);
    assert.match(result.stdout, /^backend: webasm/m);

    assertCompleteRunDir(runDir, {
      specName: 'small-cifar10',
      trainExamples: 5 * recordsPerBatch,
      testLabels,
      weightSizes: { conv_1: 8 * 3 * 3 * 3, conv_2: 16 * 8 * 3 * 3, output: 10 * 1024 },
    });
  } finally {
    remove();
  }
});

test('cifar10 spec compiles (compile check only)', async () => {
  const { dir, remove } = makeTempDir();
  try {
    const generated = path.join(dir, 'cifar10');
    const result = await snnc(['compile', 'specs/cifar10.yaml', '--out', generated], repoRoot);
    assert.is(result.code, 0, describeResult(result));

    const manifest = readJson(path.join(generated, 'manifest.json')) as {
      network: { inputShape: number[]; layers: Array<{ name: string }> };
      parameters: Array<{ layer: string; shape: number[] }>;
    };
    assert.equal(manifest.network.inputShape, [3, 32, 32]);
    const layerNames = manifest.network.layers.map((layer) => layer.name);
    assert.equal(layerNames, [
      'conv_1', 'dropout_1', 'conv_2', 'pooling_1', 'dropout_2', 'conv_3', 'pooling_2', 'dropout_3',
      'conv_4', 'dropout_4', 'conv_5', 'dropout_5', 'FC_1', 'dropout_6', 'FC_2', 'dropout_7', 'output',
    ]);
    const shapes = Object.fromEntries(manifest.parameters.map((parameter) => [parameter.layer, parameter.shape]));
    assert.equal(shapes, {
      conv_1: [96, 3, 3, 3],
      conv_2: [256, 96, 3, 3],
      conv_3: [384, 256, 3, 3],
      conv_4: [384, 384, 3, 3],
      conv_5: [256, 384, 3, 3],
      FC_1: [1024, 16384],
      FC_2: [1024, 1024],
      output: [10, 1024],
    });
    for (const file of ['ir.txt', 'ir.json', 'kernels.ts', 'kernels.js']) {
      assert.ok(existsSync(path.join(generated, file)), `${file} missing from the generated directory`);
    }
  } finally {
    remove();
  }
});

test.run();
