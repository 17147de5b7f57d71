import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openData } from '../../runtime/data/index';
import { StaticImageDataset } from '../../runtime/data/image';
import { Rng } from '../../runtime/rng';
import { cifarRecords, makeNetwork, makeTempFolder, patternImages, rejection, writeData } from './fixtures';

const CIFAR = makeNetwork('CIFAR10', [3, 32, 32]);
const MEAN = [0.4914, 0.4822, 0.4465];
const STD = [0.2023, 0.1994, 0.201];
const FIX = 'download cifar-10-binary.tar.gz and unpack it into the --data folder';

/** Writes five training batches of 2 records and a test batch of 3 records into `folder`. */
function writeCifar(folder: string) {
  const trainImages = patternImages(10, 3072);
  const trainLabels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (let k = 0; k < 5; k++) {
    const records = cifarRecords(trainLabels.slice(2 * k, 2 * k + 2), trainImages.slice(2 * k, 2 * k + 2));
    writeData(folder, `data_batch_${k + 1}.bin`, records);
  }
  const testImages = patternImages(3, 3072).map((image) => image.map((value) => value ^ 0x5a));
  const testLabels = [9, 0, 4];
  writeData(folder, 'test_batch.bin', cifarRecords(testLabels, testImages));
  return { trainImages, trainLabels, testImages, testLabels };
}

function cifarValue(byte: number, channel: number): number {
  return (byte / 255 - MEAN[channel]) / STD[channel];
}

test('cifar10 batches read back exactly', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    const written = writeCifar(path.join(folder, 'cifar-10-batches-bin'));
    const split = await openData(CIFAR, { dataDir: folder, nSteps: 5 });
    assert.ok(split.train);
    assert.is(split.train.length, 10);
    assert.is(split.test.length, 3);
    assert.equal(split.test.sampleShape, [3, 32, 32]);
    assert.equal(Array.from({ length: 10 }, (_, i) => split.train!.label(i)), written.trainLabels);
    assert.equal([0, 1, 2].map((i) => split.test.label(i)), written.testLabels);
    assert.equal(Array.from((split.train as StaticImageDataset).pixels(7)), Array.from(written.trainImages[7]));
    assert.is(
      split.description,
      `data: CIFAR-10 binary batches in ${path.join(folder, 'cifar-10-batches-bin')} (10 train, 3 test)`,
    );
  } finally {
    remove();
  }
});

test('cifar10 normalises each channel', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    const written = writeCifar(folder);
    const split = await openData(CIFAR, { dataDir: folder, nSteps: 5 });
    const out = new Float32Array(3072);
    split.test.write(1, out, 0);
    for (const channel of [0, 1, 2]) {
      for (const pixel of [0, 33, 1023]) {
        const at = channel * 1024 + pixel;
        const expected = cifarValue(written.testImages[1][at], channel);
        assert.ok(Math.abs(out[at] - expected) < 1e-5, `channel ${channel} pixel ${pixel}: ${out[at]} vs ${expected}`);
      }
    }
  } finally {
    remove();
  }
});

/** Crops after zero padding and flips, written here from torchvision's definition. */
function expectedAugmented(image: Uint8Array, seed: number): Float32Array {
  const rng = new Rng(seed);
  const top = rng.integer(9);
  const left = rng.integer(9);
  const flip = rng.uniform() < 0.5;
  const out = new Float32Array(3072);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const cropX = flip ? 31 - x : x;
        const paddedY = y + top;
        const paddedX = cropX + left;
        const inside = paddedY >= 4 && paddedY < 36 && paddedX >= 4 && paddedX < 36;
        const byte = inside ? image[c * 1024 + (paddedY - 4) * 32 + (paddedX - 4)] : 0;
        out[c * 1024 + y * 32 + x] = cifarValue(byte, c);
      }
    }
  }
  return out;
}

test('cifar10 augmentation crops and flips', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    const written = writeCifar(folder);
    const split = await openData(CIFAR, { dataDir: folder, nSteps: 5 });
    for (let seed = 0; seed < 12; seed++) {
      const out = new Float32Array(3072);
      split.train!.write(3, out, 0, new Rng(seed));
      const expected = expectedAugmented(written.trainImages[3], seed);
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - expected[i]));
      assert.ok(worst < 1e-5, `seed ${seed}: differs by ${worst}`);
    }
  } finally {
    remove();
  }
});

test('cifar10 augmentation repeats per seed', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeCifar(folder);
    const split = await openData(CIFAR, { dataDir: folder, nSteps: 5 });
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      const out = new Float32Array(4 * 3072);
      for (let i = 0; i < 4; i++) split.train!.write(i, out, i * 3072, rng);
      return Array.from(out);
    };
    assert.equal(draw(5), draw(5));
    assert.not.equal(draw(5), draw(6));
  } finally {
    remove();
  }
});

test('cifar10 test set is never augmented', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeCifar(folder);
    const split = await openData(CIFAR, { dataDir: folder, nSteps: 5 });
    const plain = new Float32Array(3072);
    const withRng = new Float32Array(3072);
    split.test.write(0, plain, 0);
    split.test.write(0, withRng, 0, new Rng(1));
    assert.equal(Array.from(withRng), Array.from(plain));
  } finally {
    remove();
  }
});

test('cifar10 test-only folder and required training', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeData(folder, 'test_batch.bin', cifarRecords([1], patternImages(1, 3072)));
    const split = await openData(CIFAR, { dataDir: folder, nSteps: 5 });
    assert.is(split.train, null);
    assert.is(split.description, `data: CIFAR-10 binary batches in ${folder} (1 test; no training files)`);

    const message = await rejection(openData(CIFAR, { dataDir: folder, nSteps: 5, train: 'required' }));
    assert.is(
      message,
      `DataError: data: ${folder} has no CIFAR-10 training batches (data_batch_1.bin … data_batch_5.bin not found); ` +
        `${FIX} to train (evaluation needs only test_batch.bin)`,
    );
  } finally {
    remove();
  }
});

const ERROR_CASES: { name: string; damage: (folder: string) => void; message: (folder: string) => string }[] = [
  {
    name: 'truncated record',
    damage: (folder) => writeData(folder, 'test_batch.bin', cifarRecords([1, 2], patternImages(2, 3072)).subarray(0, 5000)),
    message: (folder) =>
      `data: ${folder}/test_batch.bin is 5,000 bytes, not a whole number of 3,073-byte records ` +
      `(1 label byte + 3,072 pixel bytes); the file is truncated or not a CIFAR-10 binary batch, ${FIX}`,
  },
  {
    name: 'cifar-100 record size',
    damage: (folder) => writeData(folder, 'data_batch_2.bin', Buffer.alloc(2 * 3074)),
    message: (folder) =>
      `data: ${folder}/data_batch_2.bin is 6,148 bytes, not a whole number of 3,073-byte records ` +
      '(1 label byte + 3,072 pixel bytes) (its size fits the 3,074-byte records of CIFAR-100, not CIFAR-10); ' +
      `the file is truncated or not a CIFAR-10 binary batch, ${FIX}`,
  },
  {
    name: 'label out of range',
    damage: (folder) => writeData(folder, 'test_batch.bin', cifarRecords([1, 10], patternImages(2, 3072))),
    message: (folder) =>
      `data: ${folder}/test_batch.bin has label 10 in record 1, outside 0–9; it is not a CIFAR-10 binary batch, ${FIX}`,
  },
  {
    name: 'missing test batch',
    damage: (folder) => removeFile(folder, 'test_batch.bin'),
    message: (folder) => `data: ${folder}/test_batch.bin not found; expected the CIFAR-10 test batch there (${FIX})`,
  },
  {
    name: 'python version only',
    damage: (folder) => {
      removeFile(folder, 'test_batch.bin');
      writeData(folder, 'cifar-10-batches-py/test_batch', Buffer.from('pickle'));
    },
    message: (folder) =>
      `data: ${folder}/test_batch.bin not found, and ${folder} contains the Python (pickle) version of CIFAR-10; ` +
      `snnc reads the binary version: ${FIX}`,
  },
  {
    name: 'missing one training batch',
    damage: (folder) => removeFile(folder, 'data_batch_4.bin'),
    message: (folder) =>
      `data: ${folder}/data_batch_4.bin not found; expected all five CIFAR-10 training batches in ${folder} (${FIX})`,
  },
];

for (const errorCase of ERROR_CASES) {
  test(`cifar10 error: ${errorCase.name}`, async () => {
    const { folder, remove } = makeTempFolder();
    try {
      writeCifar(folder);
      errorCase.damage(folder);
      const message = await rejection(openData(CIFAR, { dataDir: folder, nSteps: 5 }));
      assert.is(message, `DataError: ${errorCase.message(folder)}`);
    } finally {
      remove();
    }
  });
}

function removeFile(folder: string, name: string): void {
  rmSync(path.join(folder, name));
}

test.run();
