import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openData } from '../../runtime/data/index';
import { StaticImageDataset } from '../../runtime/data/image';
import {
  idxImages,
  idxLabels,
  makeNetwork,
  makeTempFolder,
  mnistValue,
  patternImages,
  rejection,
  writeData,
} from './fixtures';

const MNIST = makeNetwork('MNIST', [1, 28, 28]);
const FIX = 'download the four MNIST IDX files into the --data folder';

/** Writes a complete MNIST folder: 4 training and 3 test images, raw or gzip. */
function writeMnist(folder: string, suffix: '' | '.gz', labels = { train: [0, 1, 2, 9], test: [7, 3, 5] }) {
  const train = patternImages(labels.train.length, 784);
  const testImages = patternImages(labels.test.length, 784).map((image) => image.map((value) => 255 - value));
  writeData(folder, `train-images-idx3-ubyte${suffix}`, idxImages(train, 28, 28));
  writeData(folder, `train-labels-idx1-ubyte${suffix}`, idxLabels(labels.train));
  writeData(folder, `t10k-images-idx3-ubyte${suffix}`, idxImages(testImages, 28, 28));
  writeData(folder, `t10k-labels-idx1-ubyte${suffix}`, idxLabels(labels.test));
  return { train, testImages, labels };
}

for (const suffix of ['', '.gz'] as const) {
  test(`idx ${suffix || 'raw'} files read back exactly`, async () => {
    const { folder, remove } = makeTempFolder();
    try {
      const written = writeMnist(folder, suffix);
      const split = await openData(MNIST, { dataDir: folder, nSteps: 5 });

      assert.ok(split.train);
      assert.is(split.train.length, 4);
      assert.is(split.test.length, 3);
      assert.equal(split.test.sampleShape, [1, 28, 28]);
      assert.is(split.test.encoding, 'static');
      assert.is(split.test.nClass, 10);
      assert.is(split.test.name, `MNIST test (t10k-images-idx3-ubyte${suffix})`);
      assert.is(split.description, `data: MNIST IDX files in ${folder} (4 train, 3 test)`);
      assert.equal([0, 1, 2, 3].map((i) => split.train!.label(i)), written.labels.train);
      assert.equal([0, 1, 2].map((i) => split.test.label(i)), written.labels.test);

      const test = split.test as StaticImageDataset;
      assert.equal(Array.from(test.pixels(2)), Array.from(written.testImages[2]));
    } finally {
      remove();
    }
  });
}

test('idx write normalises with MNIST statistics', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    const written = writeMnist(folder, '.gz');
    const split = await openData(MNIST, { dataDir: folder, nSteps: 5 });
    const out = new Float32Array(10 + 784).fill(99);
    split.train!.write(1, out, 10);

    assert.is(out[9], 99, 'write touched a value before the offset');
    for (const pixel of [0, 1, 100, 783]) {
      const expected = mnistValue(written.train[1][pixel]);
      assert.ok(Math.abs(out[10 + pixel] - expected) < 1e-6, `pixel ${pixel}: ${out[10 + pixel]} vs ${expected}`);
    }
  } finally {
    remove();
  }
});

test('idx torchvision raw folder is found', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeMnist(path.join(folder, 'MNIST', 'raw'), '');
    const split = await openData(MNIST, { dataDir: folder, nSteps: 5 });
    assert.is(split.test.length, 3);
    assert.is(split.description, `data: MNIST IDX files in ${path.join(folder, 'MNIST', 'raw')} (4 train, 3 test)`);
  } finally {
    remove();
  }
});

test('idx test-only folder serves evaluation', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeData(folder, 't10k-images-idx3-ubyte.gz', idxImages(patternImages(2, 784), 28, 28));
    writeData(folder, 't10k-labels-idx1-ubyte.gz', idxLabels([4, 2]));

    const optional = await openData(MNIST, { dataDir: folder, nSteps: 5 });
    assert.is(optional.train, null);
    assert.is(optional.test.length, 2);
    assert.is(optional.description, `data: MNIST IDX files in ${folder} (2 test; no training files)`);

    const message = await rejection(openData(MNIST, { dataDir: folder, nSteps: 5, train: 'required' }));
    assert.is(
      message,
      `DataError: data: ${folder} has no MNIST training files (train-images-idx3-ubyte.gz and ` +
        'train-labels-idx1-ubyte.gz not found); download them into the --data folder to train ' +
        '(evaluation needs only the t10k files)',
    );
  } finally {
    remove();
  }
});

test('idx skip mode ignores broken training files', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeMnist(folder, '');
    writeFileSync(path.join(folder, 'train-images-idx3-ubyte'), Buffer.from([1, 2, 3]));
    const split = await openData(MNIST, { dataDir: folder, nSteps: 5, train: 'skip' });
    assert.is(split.train, null);
    assert.is(split.test.length, 3);
  } finally {
    remove();
  }
});

test('idx fashion spellings open fashion files', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeMnist(path.join(folder, 'FashionMNIST', 'raw'), '.gz');
    for (const spelling of ['FashionMNIST', 'Fashion-MNIST', 'fashion_mnist']) {
      const split = await openData(makeNetwork(spelling, [1, 28, 28]), { dataDir: folder, nSteps: 5 });
      assert.is(split.test.name, 'Fashion-MNIST test (t10k-images-idx3-ubyte.gz)');
      assert.ok(split.description.startsWith('data: Fashion-MNIST IDX files in '), split.description);
    }
  } finally {
    remove();
  }
});

test('idx eval names only test files', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeMnist(folder, '.gz');
    removeFile(folder, 't10k-images-idx3-ubyte.gz');
    const error = await openData(makeNetwork('MNIST', [1, 28, 28]), { dataDir: folder, nSteps: 5, train: 'skip' }).then(
      () => null,
      (caught: Error) => caught,
    );
    assert.is(
      error?.message,
      `data: ${folder}/t10k-images-idx3-ubyte.gz not found; expected the MNIST test images there ` +
        '(download the two MNIST test files (t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz) into the --data folder)',
    );
  } finally {
    remove();
  }
});

/** One broken folder per case and the exact message it must produce. */
const ERROR_CASES: { name: string; damage: (folder: string) => void; message: (folder: string) => string }[] = [
  {
    name: 'missing test labels',
    damage: (folder) => removeFile(folder, 't10k-labels-idx1-ubyte.gz'),
    message: (folder) =>
      `data: ${folder}/t10k-labels-idx1-ubyte.gz not found; expected the MNIST test labels there (${FIX})`,
  },
  {
    name: 'missing test images',
    damage: (folder) => removeFile(folder, 't10k-images-idx3-ubyte.gz'),
    message: (folder) =>
      `data: ${folder}/t10k-images-idx3-ubyte.gz not found; expected the MNIST test images there (${FIX})`,
  },
  {
    name: 'missing one training file',
    damage: (folder) => removeFile(folder, 'train-labels-idx1-ubyte.gz'),
    message: (folder) =>
      `data: ${folder}/train-labels-idx1-ubyte.gz not found; expected the MNIST training labels there (${FIX})`,
  },
  {
    name: 'truncated images',
    damage: (folder) =>
      writeData(folder, 't10k-images-idx3-ubyte.gz', idxImages(patternImages(3, 784), 28, 28).subarray(0, 2000)),
    message: (folder) =>
      `data: ${folder}/t10k-images-idx3-ubyte.gz is truncated: 2,368 bytes expected for 3 images of 28×28 ` +
      `after the 16-byte header, found 2,000; ${FIX}`,
  },
  {
    name: 'header shorter than 16 bytes',
    damage: (folder) => writeData(folder, 't10k-images-idx3-ubyte.gz', Buffer.from([0, 0, 8, 3, 0])),
    message: (folder) =>
      `data: ${folder}/t10k-images-idx3-ubyte.gz is truncated: 5 bytes, shorter than the 16-byte IDX images header; ${FIX}`,
  },
  {
    name: 'labels file under images name',
    damage: (folder) => writeData(folder, 't10k-images-idx3-ubyte.gz', idxLabels([1, 2, 3, 4, 5, 6, 7, 8])),
    message: (folder) =>
      `data: ${folder}/t10k-images-idx3-ubyte.gz has magic number 0x00000801, expected 0x00000803 ` +
      `for IDX images; it is not the MNIST test images, ${FIX}`,
  },
  {
    name: 'extra bytes after labels',
    damage: (folder) =>
      writeData(folder, 't10k-labels-idx1-ubyte.gz', Buffer.concat([idxLabels([7, 3, 5]), Buffer.from([0, 0])])),
    message: (folder) =>
      `data: ${folder}/t10k-labels-idx1-ubyte.gz has 2 bytes more than the 3 labels after the 8-byte header; ` +
      `the file is damaged, ${FIX}`,
  },
  {
    name: 'label out of range',
    damage: (folder) => writeData(folder, 't10k-labels-idx1-ubyte.gz', idxLabels([7, 12, 5])),
    message: (folder) =>
      `data: ${folder}/t10k-labels-idx1-ubyte.gz has label 12 at index 1, outside 0–9; ` +
      `it is not the MNIST test labels, ${FIX}`,
  },
  {
    name: 'image and label counts differ',
    damage: (folder) => writeData(folder, 't10k-labels-idx1-ubyte.gz', idxLabels([7, 3])),
    message: (folder) =>
      `data: ${folder}/t10k-images-idx3-ubyte.gz contains 3 images but ${folder}/t10k-labels-idx1-ubyte.gz ` +
      'contains 2 labels; both files must come from the same MNIST download',
  },
  {
    name: 'gz name without gzip content',
    damage: (folder) => writeFileSync(path.join(folder, 't10k-labels-idx1-ubyte.gz'), idxLabels([7, 3, 5])),
    message: (folder) =>
      `data: ${folder}/t10k-labels-idx1-ubyte.gz is not a gzip file (it starts with 0x00 0x00 0x08 0x01); ${FIX}`,
  },
  {
    name: 'cut gzip stream',
    damage: (folder) => {
      const file = writeData(folder, 't10k-labels-idx1-ubyte.gz', idxLabels([7, 3, 5]));
      truncateFile(file, 15);
    },
    message: (folder) =>
      `data: ${folder}/t10k-labels-idx1-ubyte.gz is not a valid gzip file (unexpected end of file); ${FIX}`,
  },
];

for (const errorCase of ERROR_CASES) {
  test(`idx error: ${errorCase.name}`, async () => {
    const { folder, remove } = makeTempFolder();
    try {
      writeMnist(folder, '.gz');
      errorCase.damage(folder);
      const message = await rejection(openData(MNIST, { dataDir: folder, nSteps: 5 }));
      assert.is(message, `DataError: ${errorCase.message(folder)}`);
    } finally {
      remove();
    }
  });
}

function removeFile(folder: string, name: string): void {
  rmSync(path.join(folder, name));
}

function truncateFile(file: string, length: number): void {
  writeFileSync(file, readFileSync(file).subarray(0, length));
}

test.run();
