import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batches, makeBatch, openData } from '../../runtime/data/index';
import type { Batch } from '../../runtime/engine';
import { Rng } from '../../runtime/rng';
import { cifarRecords, idxImages, idxLabels, makeNetwork, makeTempFolder, patternImages, writeData } from './fixtures';

async function collect(generator: AsyncGenerator<Batch>): Promise<Batch[]> {
  const all: Batch[] = [];
  for await (const batch of generator) all.push(batch);
  return all;
}

/** Opens an MNIST test set of 7 pattern images labelled 0…6. */
async function openSmallMnist(folder: string) {
  writeData(folder, 't10k-images-idx3-ubyte', idxImages(patternImages(7, 784), 28, 28));
  writeData(folder, 't10k-labels-idx1-ubyte', idxLabels([0, 1, 2, 3, 4, 5, 6]));
  return (await openData(makeNetwork('MNIST', [1, 28, 28]), { dataDir: folder, nSteps: 5 })).test;
}

test('makeBatch lays samples out in order', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    const dataset = await openSmallMnist(folder);
    const batch = makeBatch(dataset, [5, 2, 5], 5);
    assert.is(batch.size, 3);
    assert.is(batch.input.length, 3 * 784);
    assert.ok(batch.labels instanceof Int32Array);
    assert.equal(Array.from(batch.labels), [5, 2, 5]);

    const single = new Float32Array(784);
    dataset.write(2, single, 0);
    assert.equal(Array.from(batch.input.subarray(784, 2 * 784)), Array.from(single));
    assert.equal(Array.from(batch.input.subarray(0, 784)), Array.from(batch.input.subarray(2 * 784)));
  } finally {
    remove();
  }
});

test('batches follow order with a short last batch', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    const dataset = await openSmallMnist(folder);
    const order = Int32Array.from([6, 0, 5, 1, 4, 2, 3]);
    const all = await collect(batches(dataset, order, 3, 5));
    assert.equal(all.map((batch) => batch.size), [3, 3, 1]);
    assert.equal(all.map((batch) => Array.from(batch.labels)), [[6, 0, 5], [1, 4, 2], [3]]);

    const dropped = await collect(batches(dataset, order, 3, 5, undefined, { dropLast: true }));
    assert.equal(dropped.map((batch) => batch.size), [3, 3]);

    const resumed = await collect(batches(dataset, order, 3, 5, undefined, { startBatch: 1 }));
    assert.equal(resumed.map((batch) => Array.from(batch.labels)), [[1, 4, 2], [3]]);
    assert.equal(Array.from(resumed[0].input), Array.from(all[1].input));
  } finally {
    remove();
  }
});

test('batches augmentation survives a resume', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeData(folder, 'test_batch.bin', cifarRecords([0], patternImages(1, 3072)));
    for (let k = 1; k <= 5; k++) {
      writeData(folder, `data_batch_${k}.bin`, cifarRecords([k, k + 1, k + 2, k + 3], patternImages(4, 3072)));
    }
    const split = await openData(makeNetwork('cifar-10', [3, 32, 32]), { dataDir: folder, nSteps: 5 });
    const order = Int32Array.from({ length: 20 }, (_, i) => i);

    const full = await collect(batches(split.train!, order, 4, 5, new Rng(11)));
    const resumed = await collect(batches(split.train!, order, 4, 5, new Rng(11), { startBatch: 3 }));
    const again = await collect(batches(split.train!, order, 4, 5, new Rng(11)));
    const otherSeed = await collect(batches(split.train!, order, 4, 5, new Rng(12)));

    assert.is(full.length, 5);
    assert.is(resumed.length, 2);
    assert.equal(Array.from(resumed[0].input), Array.from(full[3].input));
    assert.equal(Array.from(resumed[1].input), Array.from(full[4].input));
    assert.equal(Array.from(again[2].input), Array.from(full[2].input));
    assert.not.equal(Array.from(otherSeed[2].input), Array.from(full[2].input));
  } finally {
    remove();
  }
});

test('batches reports a failing sample', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    const dataset = await openSmallMnist(folder);
    const generator = batches(dataset, Int32Array.from([0, 1, 99]), 2, 5);
    const first = await generator.next();
    assert.is(first.value?.size, 2);
    try {
      await generator.next();
      assert.unreachable('the second batch should fail');
    } catch (error) {
      assert.match((error as Error).message, /sample index 99 is outside MNIST test/);
    }
  } finally {
    remove();
  }
});

test.run();
