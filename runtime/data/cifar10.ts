// Runtime data: CIFAR-10 reader for the binary batches (`data_batch_1.bin` … `test_batch.bin`).

import path from 'node:path';
import { DataError } from './errors';
import { formatCount, isFile, readWhole } from './files';
import type { DataSplit, OpenDataOptions } from './dataset';
import { CIFAR10_NORMALISATION, type PixelSource, StaticImageDataset } from './image';

/** One record: a label byte, then 1024 red, 1024 green and 1024 blue bytes, rows of 32. */
export const CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32;
/** CIFAR-100 binary records carry a coarse and a fine label byte. */
const CIFAR100_RECORD_BYTES = 2 + 3 * 32 * 32;
const N_CLASS = 10;

export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
export const CIFAR10_TEST_FILE = 'test_batch.bin';

const SUBFOLDER = 'cifar-10-batches-bin';
const PYTHON_SUBFOLDER = 'cifar-10-batches-py';
const FIX = 'download cifar-10-binary.tar.gz and unpack it into the --data folder';

/** One batch file's bytes, kept whole, and its labels. */
interface CifarBatchFile {
  file: string;
  bytes: Uint8Array;
  labels: Uint8Array;
}

/** Reads one binary batch and checks its record size and labels. */
export async function readCifar10Batch(file: string): Promise<CifarBatchFile> {
  const bytes = await readWhole(file, FIX);

  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const cifar100 =
      bytes.length > 0 && bytes.length % CIFAR100_RECORD_BYTES === 0
        ? ` (its size fits the ${formatCount(CIFAR100_RECORD_BYTES)}-byte records of CIFAR-100, not CIFAR-10)`
        : '';
    throw new DataError(
      `data: ${file} is ${formatCount(bytes.length)} bytes, not a whole number of ` +
        `${formatCount(CIFAR10_RECORD_BYTES)}-byte records (1 label byte + 3,072 pixel bytes)${cifar100}; ` +
        `the file is truncated or not a CIFAR-10 binary batch, ${FIX}`,
      file,
    );
  }

  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = bytes[i * CIFAR10_RECORD_BYTES];
    if (label >= N_CLASS) {
      throw new DataError(
        `data: ${file} has label ${label} in record ${i}, outside 0–${N_CLASS - 1}; ` +
          `it is not a CIFAR-10 binary batch, ${FIX}`,
        file,
      );
    }
    labels[i] = label;
  }
  return { file, bytes, labels };
}

/**
 * Opens CIFAR-10 from `folder` or its `cifar-10-batches-bin` subfolder. `test_batch.bin`
 * must be there; the five training batches follow `options.train`, and training images
 * are augmented (crop after 4-pixel padding, horizontal flip) when `write` receives an `Rng`.
 */
export async function openCifar10Folder(folder: string, options: Pick<OpenDataOptions, 'train'>): Promise<DataSplit> {
  const root = isFile(path.join(folder, SUBFOLDER, CIFAR10_TEST_FILE)) ? path.join(folder, SUBFOLDER) : folder;
  const mode = options.train ?? 'optional';

  const testFile = path.join(root, CIFAR10_TEST_FILE);
  if (!isFile(testFile)) throw missingTestFile(folder, testFile);
  const test = makeDataset('CIFAR-10 test', CIFAR10_TEST_FILE, [await readCifar10Batch(testFile)], false);

  let train: StaticImageDataset | null = null;
  if (mode !== 'skip') {
    const trainFiles = CIFAR10_TRAIN_FILES.map((name) => path.join(root, name));
    const missing = trainFiles.filter((file) => !isFile(file));

    if (missing.length === trainFiles.length && mode === 'required') {
      throw new DataError(
        `data: ${root} has no CIFAR-10 training batches (data_batch_1.bin … data_batch_5.bin not found); ` +
          `${FIX} to train (evaluation needs only test_batch.bin)`,
        root,
      );
    }
    if (missing.length > 0 && missing.length < trainFiles.length) {
      throw new DataError(
        `data: ${missing[0]} not found; expected all five CIFAR-10 training batches in ${root} (${FIX})`,
        missing[0],
      );
    }
    if (missing.length === 0) {
      const batches = await Promise.all(trainFiles.map((file) => readCifar10Batch(file)));
      train = makeDataset('CIFAR-10 train', 'data_batch_1.bin … data_batch_5.bin', batches, true);
    }
  }

  const counts = train
    ? `${formatCount(train.length)} train, ${formatCount(test.length)} test`
    : `${formatCount(test.length)} test; no training files`;
  return { train, test, description: `data: CIFAR-10 binary batches in ${root} (${counts})` };
}

function makeDataset(title: string, files: string, batches: CifarBatchFile[], augment: boolean): StaticImageDataset {
  const total = batches.reduce((sum, batch) => sum + batch.labels.length, 0);
  const labels = new Uint8Array(total);
  const sources: PixelSource[] = [];
  let next = 0;
  for (const batch of batches) {
    labels.set(batch.labels, next);
    next += batch.labels.length;
    sources.push({ bytes: batch.bytes, start: 1, stride: CIFAR10_RECORD_BYTES, count: batch.labels.length });
  }

  return new StaticImageDataset({
    name: `${title} (${files})`,
    shape: [3, 32, 32],
    nClass: N_CLASS,
    labels,
    sources,
    normalisation: CIFAR10_NORMALISATION,
    augmentation: augment ? { padding: 4, flip: true } : null,
  });
}

function missingTestFile(folder: string, testFile: string): DataError {
  const pythonVersion = [path.join(folder, PYTHON_SUBFOLDER), folder].some((candidate) =>
    isFile(path.join(candidate, 'test_batch')),
  );
  if (pythonVersion) {
    return new DataError(
      `data: ${testFile} not found, and ${folder} contains the Python (pickle) version of CIFAR-10; ` +
        `snnc reads the binary version: ${FIX}`,
      testFile,
    );
  }
  return new DataError(`data: ${testFile} not found; expected the CIFAR-10 test batch there (${FIX})`, testFile);
}
