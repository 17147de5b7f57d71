import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../runtime/rng';
import {
  CheckpointError,
  OutputError,
  checkCheckpointSpec,
  readCheckpoint,
  writeCheckpoint,
  type Checkpoint,
} from '../../runtime/train';
import { emptyProgress } from '../../runtime/train/types';
import { temporaryDirectory, tinyNetwork } from './fixtures';

function sampleCheckpoint(): Checkpoint {
  const rng = new Rng(5);
  const values = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return {
    specName: 'tiny',
    specHash: 'hash-of-tiny',
    settings: { epochs: 3, batchSize: 4, lr: 0.01, seed: 9, limitTrain: null, limitTest: 10 },
    state: {
      epochsDone: 1,
      batchesDone: 2,
      order: Int32Array.from([3, 0, 2, 1, 5, 4]),
      rngState: rng.getState(),
      best: { accuracy: 0.5, epoch: 1, confusion: [[1, 1], [0, 2]] },
      history: [
        {
          epoch: 1,
          trainLoss: 0.25,
          trainAccuracy: 0.5,
          testAccuracy: 0.5,
          bestAccuracy: 0.5,
          bestEpoch: 1,
          seconds: 1.5,
          trainExamples: 6,
          trainSeconds: 1.25,
          imagesPerSecond: 4.8,
        },
      ],
      partial: { ...emptyProgress(), lossSum: 0.1234567891, correct: 3, seen: 8, trainSeconds: 0.5 },
      elapsedSeconds: 2.5,
    },
    weights: { conv_1: values(8), output: values(24) },
    optimizer: { step: 7, m: { conv_1: values(8), output: values(24) }, v: { conv_1: values(8), output: values(24) } },
  };
}

test('checkpoint round trip keeps every field', () => {
  const path = join(temporaryDirectory(), 'last.ckpt');
  const original = sampleCheckpoint();
  writeCheckpoint(path, original);
  const loaded = readCheckpoint(path);
  assert.equal(loaded, original);
  assert.instance(loaded.state.order, Int32Array);
  assert.instance(loaded.weights.output, Float32Array);
});

test('checkpoint without epoch order round trips', () => {
  const path = join(temporaryDirectory(), 'best.ckpt');
  const original = sampleCheckpoint();
  original.state.order = null;
  original.state.batchesDone = 0;
  writeCheckpoint(path, original);
  assert.is(readCheckpoint(path).state.order, null);
});

test('truncated checkpoint is detected', () => {
  const path = join(temporaryDirectory(), 'last.ckpt');
  writeCheckpoint(path, sampleCheckpoint());
  truncateSync(path, readFileSync(path).length - 40);
  assert.throws(
    () => readCheckpoint(path),
    (error: Error) =>
      error instanceof CheckpointError &&
      error.message === `checkpoint ${path} is corrupt or truncated (SHA-256 mismatch): use another checkpoint, e.g. best.ckpt of the same run`,
  );
});

test('checkpoint cut inside its header is detected', () => {
  const path = join(temporaryDirectory(), 'last.ckpt');
  writeCheckpoint(path, sampleCheckpoint());
  truncateSync(path, 20);
  assert.throws(() => readCheckpoint(path), /corrupt or truncated/);
  truncateSync(path, 3);
  assert.throws(() => readCheckpoint(path), /corrupt or truncated \(only 3 bytes\)/);
});

test('flipped weight byte is detected', () => {
  const path = join(temporaryDirectory(), 'last.ckpt');
  writeCheckpoint(path, sampleCheckpoint());
  const bytes = readFileSync(path);
  bytes[bytes.length - 100] ^= 0x01;
  writeFileSync(path, bytes);
  assert.throws(() => readCheckpoint(path), /SHA-256 mismatch/);
});

test('foreign file is rejected as not a checkpoint', () => {
  const path = join(temporaryDirectory(), 'weights.bin');
  writeFileSync(path, 'not a checkpoint at all, just text');
  assert.throws(() => readCheckpoint(path), new RegExp(`^${path} is not an snnc checkpoint`));
});

test('missing checkpoint names the path', () => {
  const path = join(temporaryDirectory(), 'nowhere.ckpt');
  assert.throws(() => readCheckpoint(path), new RegExp(`checkpoint ${path} not found`));
});

test('checkpoint of another spec is rejected', () => {
  const checkpoint = sampleCheckpoint();
  const other = tinyNetwork('fashion', 'fedcba9876543210fedcba');
  checkCheckpointSpec('runs/a/last.ckpt', checkpoint, tinyNetwork('tiny', 'hash-of-tiny'), 'generated/tiny');
  assert.throws(
    () => checkCheckpointSpec('runs/a/last.ckpt', checkpoint, other, 'generated/fashion'),
    (error: Error) =>
      error.message ===
      "checkpoint runs/a/last.ckpt was written for spec 'tiny' (hash hash-of-tiny), but generated/fashion was compiled " +
        "from spec 'fashion' (hash fedcba987654): use a checkpoint of 'fashion', or compile the spec the checkpoint was written for",
  );
});

test('leftover temporary file does not replace the checkpoint', () => {
  const dir = temporaryDirectory();
  const path = join(dir, 'last.ckpt');
  const first = sampleCheckpoint();
  writeCheckpoint(path, first);

  // A write killed half way leaves its temporary file; the checkpoint itself is untouched.
  const second = sampleCheckpoint();
  second.state.epochsDone = 2;
  const partialBytes = readFileSync(path).subarray(0, 100);
  writeFileSync(join(dir, `.last.ckpt.99999.tmp`), partialBytes);

  assert.equal(readCheckpoint(path), first);
  writeCheckpoint(path, second);
  assert.is(readCheckpoint(path).state.epochsDone, 2);
  assert.ok(existsSync(join(dir, '.last.ckpt.99999.tmp')), 'the stray file is left for the user');
});

test('failed checkpoint write leaves no temporary file', () => {
  const dir = temporaryDirectory();
  const path = join(dir, 'missing-folder', 'last.ckpt');
  assert.throws(() => writeCheckpoint(path, sampleCheckpoint()), (error: Error) => error instanceof OutputError);
  assert.equal(readdirSync(dir), []);
});

test.run();
