// End-to-end: `snnc run` killed with SIGKILL mid-epoch and resumed, and a resumed run compared
// with an uninterrupted one, on a small MNIST network and the embedded digits.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readCheckpoint, type Checkpoint } from '../../runtime/train';
import type { TensorMap } from '../../runtime/engine';
import {
  TINY_MNIST_SPEC,
  compileSpec,
  describeResult,
  makeTempDir,
  readJson,
  readMetrics,
  snnc,
  snncOk,
  startSnnc,
  writeSpec,
} from './harness';

const workspace = makeTempDir();
let compiled: Promise<string> | null = null;

/** Compiles the small MNIST spec once for this file and returns its generated directory. */
function tinyMnist(): Promise<string> {
  compiled ??= (async () => {
    const spec = writeSpec(workspace.dir, 'tiny-mnist.yaml', TINY_MNIST_SPEC);
    const generated = path.join(workspace.dir, 'generated', 'tiny-mnist');
    await compileSpec(spec, generated, workspace.dir);
    return generated;
  })();
  return compiled;
}

function bytesOf(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Asserts that two tensor maps hold the same layers with bit-identical values. */
function assertSameTensors(actual: TensorMap, expected: TensorMap, description: string): void {
  assert.equal(Object.keys(actual).sort(), Object.keys(expected).sort(), `${description}: layers`);
  for (const layer of Object.keys(expected)) {
    assert.ok(actual[layer] instanceof Float32Array, `${description} of ${layer} is not a Float32Array`);
    assert.ok(bytesOf(actual[layer]).equals(bytesOf(expected[layer])), `${description} of ${layer} differ`);
  }
}

function tensorsDiffer(a: TensorMap, b: TensorMap): boolean {
  return Object.keys(a).some((layer) => !bytesOf(a[layer]).equals(bytesOf(b[layer])));
}

test('SIGKILL mid-epoch keeps a loadable checkpoint', async () => {
  const generated = await tinyMnist();
  const { dir, remove } = makeTempDir();
  try {
    const runDir = path.join(dir, 'run');
    const training = startSnnc(
      ['run', generated, '--limit-train', '400', '--limit-test', '50', '--epochs', '3', '--batch-size', '10', '--backend', 'webasm', '--out', runDir],
      dir,
    );
    // The plain progress lines come every 10% of an epoch, so this line means epoch 2 is under way.
    await training.waitForLine(/^epoch 2\/3 {2}10% /);
    training.child.kill('SIGKILL');
    const killed = await training.exited;

    assert.is(killed.signal, 'SIGKILL', describeResult(killed));
    assert.match(killed.stdout, /^epoch 1\/3 {2}train loss /m);
    assert.not.match(killed.stdout, /^epoch 2\/3 {2}train loss /m, 'epoch 2 finished before the kill');
    const before = readMetrics(runDir);
    assert.is(before.length, 1, 'metrics.jsonl lines before the kill');

    // Only complete files are present: no temporary file and no other checkpoint name.
    assert.equal(readdirSync(runDir).sort(), [
      'best.ckpt',
      'config.json',
      'confusion.json',
      'confusion.svg',
      'curves.svg',
      'last.ckpt',
      'metrics.jsonl',
      'summary.json',
    ]);
    for (const name of ['best.ckpt', 'last.ckpt']) {
      const checkpoint = readCheckpoint(path.join(runDir, name));
      assert.is(checkpoint.state.epochsDone, 1, `${name}: epochs done`);
      assert.is(checkpoint.state.batchesDone, 0, `${name}: batches done`);
    }

    // A cut-off copy of the checkpoint is rejected rather than resumed from.
    const lastBytes = readFileSync(path.join(runDir, 'last.ckpt'));
    const truncated = path.join(runDir, 'truncated.ckpt');
    writeFileSync(truncated, lastBytes.subarray(0, Math.floor(lastBytes.length / 2)));
    const rejected = await snnc(['run', generated, '--resume', truncated], dir);
    assert.is(rejected.code, 1, describeResult(rejected));
    assert.match(rejected.stderr, `checkpoint ${truncated} is corrupt or truncated`);
    assert.equal(readMetrics(runDir), before, 'the rejected resume changed metrics.jsonl');

    const lastPath = path.join(runDir, 'last.ckpt');
    const resumed = await snncOk(['run', generated, '--resume', lastPath], dir);
    assert.match(resumed.stdout, `resuming from ${lastPath} after epoch 1`);
    assert.not.match(resumed.stdout, /^epoch 1\/3 {2}train loss /m, 'the resumed run repeated epoch 1');
    assert.match(resumed.stdout, /^epoch 3\/3 {2}train loss /m);

    const after = readMetrics(runDir);
    assert.equal(
      after.map((line) => line.epoch),
      [1, 2, 3],
    );
    assert.equal(after[0], before[0], 'the epoch 1 line changed on resume');
    for (const line of after) assert.is(line.trainExamples, 400, `training examples of epoch ${line.epoch}`);
    assert.is(readCheckpoint(lastPath).state.epochsDone, 3);
    const summary = readJson(path.join(runDir, 'summary.json')) as { epochsCompleted: number };
    assert.is(summary.epochsCompleted, 3);
    const config = readJson(path.join(runDir, 'config.json')) as { resumedFrom: string | null };
    assert.is(config.resumedFrom, lastPath);
  } finally {
    remove();
  }
});

test('resumed run equals uninterrupted run', async () => {
  const generated = await tinyMnist();
  const { dir, remove } = makeTempDir();
  try {
    const common = ['--limit-train', '40', '--limit-test', '20', '--batch-size', '10', '--backend', 'webasm'];
    const straightDir = path.join(dir, 'straight');
    const splitDir = path.join(dir, 'split');

    await snncOk(['run', generated, ...common, '--epochs', '2', '--out', straightDir], dir);
    await snncOk(['run', generated, ...common, '--epochs', '1', '--out', splitDir], dir);
    const afterOneEpoch = readCheckpoint(path.join(splitDir, 'last.ckpt'));
    await snncOk(['run', generated, '--resume', path.join(splitDir, 'last.ckpt'), '--epochs', '2', '--backend', 'webasm'], dir);

    const straight: Checkpoint = readCheckpoint(path.join(straightDir, 'last.ckpt'));
    const split: Checkpoint = readCheckpoint(path.join(splitDir, 'last.ckpt'));
    assert.is(straight.state.epochsDone, 2);
    assert.is(split.state.epochsDone, 2);
    assert.ok(tensorsDiffer(split.weights, afterOneEpoch.weights), 'the second epoch left the weights unchanged');

    assertSameTensors(split.weights, straight.weights, 'weights');
    assertSameTensors(split.optimizer.m, straight.optimizer.m, 'AdamW first moments');
    assertSameTensors(split.optimizer.v, straight.optimizer.v, 'AdamW second moments');
    assert.is(split.optimizer.step, straight.optimizer.step, 'AdamW step');
    assert.equal(split.state.rngState, straight.state.rngState, 'generator state');

    const accuracies = (runDir: string) => readMetrics(runDir).map((line) => [line.trainLoss, line.trainAccuracy, line.testAccuracy]);
    assert.equal(accuracies(splitDir), accuracies(straightDir), 'per-epoch loss and accuracies');
  } finally {
    remove();
  }
});

test.after(() => workspace.remove());

test.run();
