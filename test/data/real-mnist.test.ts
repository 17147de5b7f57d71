import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StaticImageDataset } from '../../runtime/data/image';
import { makeBatch, openData } from '../../runtime/data/index';
import { makeNetwork, mnistValue } from './fixtures';
import { referencePath } from '../support/reference-files';

const folder = referencePath('data', 'mnist');
const MNIST = makeNetwork('MNIST', [1, 28, 28]);

test('real mnist files carry IDX magic numbers', () => {
  const images = zlib.gunzipSync(readFileSync(path.join(folder, 't10k-images-idx3-ubyte.gz')));
  const labels = zlib.gunzipSync(readFileSync(path.join(folder, 't10k-labels-idx1-ubyte.gz')));
  assert.is(images.readUInt32BE(0), 0x00000803);
  assert.is(labels.readUInt32BE(0), 0x00000801);
  assert.is(images.readUInt32BE(4), 10000);
  assert.is(labels.readUInt32BE(4), 10000);
});

test('real mnist test set opens for evaluation', async () => {
  const split = await openData(MNIST, { dataDir: folder, nSteps: 5 });
  assert.is(split.train, null);
  assert.is(split.test.length, 10000);
  assert.equal(split.test.sampleShape, [1, 28, 28]);
  assert.is(split.test.name, 'MNIST test (t10k-images-idx3-ubyte.gz)');

  const histogram = new Array<number>(10).fill(0);
  for (let i = 0; i < split.test.length; i++) histogram[split.test.label(i)]++;
  assert.is(histogram.reduce((sum, count) => sum + count, 0), 10000);
  for (let digit = 0; digit < 10; digit++) assert.ok(histogram[digit] > 800, `digit ${digit}: ${histogram[digit]}`);

  const test = split.test as StaticImageDataset;
  let min = 255;
  let max = 0;
  for (let i = 0; i < test.length; i += 50) {
    for (const byte of test.pixels(i)) {
      min = Math.min(min, byte);
      max = Math.max(max, byte);
    }
  }
  assert.is(min, 0);
  assert.is(max, 255);
});

test('real mnist batch holds normalised digits', async () => {
  const split = await openData(MNIST, { dataDir: folder, nSteps: 5, train: 'skip' });
  const test = split.test as StaticImageDataset;
  const batch = makeBatch(test, [9999, 0], 5);
  assert.equal(Array.from(batch.labels), [test.label(9999), test.label(0)]);
  for (const pixel of [0, 400, 783]) {
    assert.ok(Math.abs(batch.input[pixel] - mnistValue(test.pixels(9999)[pixel])) < 1e-6);
    assert.ok(Math.abs(batch.input[784 + pixel] - mnistValue(test.pixels(0)[pixel])) < 1e-6);
  }
});

test.run();
