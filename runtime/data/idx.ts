// Runtime data: MNIST and Fashion-MNIST readers for the IDX files, raw or gzip.

import path from 'node:path';
import { DataError } from './errors';
import { findMaybeGzipped, formatCount, hex32, readMaybeGzipped, readUint32BE } from './files';
import type { DataSplit, OpenDataOptions } from './dataset';
import { MNIST_NORMALISATION, StaticImageDataset } from './image';

/** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
export const IDX_LABELS_MAGIC = 0x00000801;

const IMAGES_HEADER_BYTES = 16;
const LABELS_HEADER_BYTES = 8;
const N_CLASS = 10;

export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export type IdxSetName = 'MNIST' | 'Fashion-MNIST';

/** Decoded IDX images; pixel `k` of image `i` is `bytes[16 + i·rows·cols + k]`. */
export interface IdxImages {
  file: string;
  count: number;
  rows: number;
  cols: number;
  bytes: Uint8Array;
}

/**
 * Reads and checks an IDX image file: magic number, header, and a size of exactly
 * header + count·rows·cols bytes. `contents` names the file's part of the set in
 * errors, e.g. `MNIST test images`.
 */
export async function readIdxImages(file: string, contents: string, fix: string): Promise<IdxImages> {
  const bytes = await readMaybeGzipped(file, fix);
  checkHeader(file, bytes, IMAGES_HEADER_BYTES, IDX_IMAGES_MAGIC, 'IDX images', contents, fix);

  const count = readUint32BE(bytes, 4);
  const rows = readUint32BE(bytes, 8);
  const cols = readUint32BE(bytes, 12);
  const expected = IMAGES_HEADER_BYTES + count * rows * cols;
  const layout = `${formatCount(count)} images of ${rows}×${cols} after the ${IMAGES_HEADER_BYTES}-byte header`;
  checkLength(file, bytes.length, expected, layout, fix);

  return { file, count, rows, cols, bytes };
}

/** Reads and checks an IDX label file: magic number, size, and every label below `nClass`. */
export async function readIdxLabels(file: string, contents: string, fix: string, nClass = N_CLASS): Promise<Uint8Array> {
  const bytes = await readMaybeGzipped(file, fix);
  checkHeader(file, bytes, LABELS_HEADER_BYTES, IDX_LABELS_MAGIC, 'IDX labels', contents, fix);

  const count = readUint32BE(bytes, 4);
  const layout = `${formatCount(count)} labels after the ${LABELS_HEADER_BYTES}-byte header`;
  checkLength(file, bytes.length, LABELS_HEADER_BYTES + count, layout, fix);

  const labels = bytes.subarray(LABELS_HEADER_BYTES);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= nClass) {
      throw new DataError(
        `data: ${file} has label ${labels[i]} at index ${i}, outside 0–${nClass - 1}; it is not the ${contents}, ${fix}`,
        file,
      );
    }
  }
  return labels;
}

function checkHeader(
  file: string,
  bytes: Uint8Array,
  headerBytes: number,
  magic: number,
  format: string,
  contents: string,
  fix: string,
): void {
  if (bytes.length < headerBytes) {
    throw new DataError(
      `data: ${file} is truncated: ${bytes.length} bytes, shorter than the ${headerBytes}-byte ` +
        `${format} header; ${fix}`,
      file,
    );
  }
  const found = readUint32BE(bytes, 0);
  if (found !== magic) {
    throw new DataError(
      `data: ${file} has magic number ${hex32(found)}, expected ${hex32(magic)} for ${format}; ` +
        `it is not the ${contents}, ${fix}`,
      file,
    );
  }
}

function checkLength(file: string, actual: number, expected: number, layout: string, fix: string): void {
  if (actual < expected) {
    throw new DataError(
      `data: ${file} is truncated: ${formatCount(expected)} bytes expected for ${layout}, found ${formatCount(actual)}; ${fix}`,
      file,
    );
  }
  if (actual > expected) {
    throw new DataError(
      `data: ${file} has ${formatCount(actual - expected)} bytes more than the ${layout}; the file is damaged, ${fix}`,
      file,
    );
  }
}

/** Subfolders tried after the folder itself: torchvision's download layout. */
const TORCHVISION_FOLDERS: Record<IdxSetName, string> = {
  MNIST: path.join('MNIST', 'raw'),
  'Fashion-MNIST': path.join('FashionMNIST', 'raw'),
};

/**
 * Opens the four IDX files of MNIST or Fashion-MNIST in `folder` (or in its
 * torchvision subfolder `MNIST/raw` or `FashionMNIST/raw`). The test files must be
 * there; the training files follow `options.train`.
 */
export async function openIdxFolder(
  setName: IdxSetName,
  folder: string,
  options: Pick<OpenDataOptions, 'train'>,
): Promise<DataSplit> {
  const mode = options.train ?? 'optional';
  // Evaluation skips the training files, so it needs only the two test files.
  const fix =
    mode === 'skip'
      ? `download the two ${setName} test files (${IDX_FILE_NAMES.testImages}.gz and ${IDX_FILE_NAMES.testLabels}.gz) into the --data folder`
      : `download the four ${setName} IDX files into the --data folder`;
  const root = chooseFolder(setName, folder);

  const test = await openIdxPair(setName, root, 'test', fix);
  if (!test) throw missingFile(root, IDX_FILE_NAMES.testImages, `${setName} test images`, fix);

  const train = mode === 'skip' ? null : await openIdxPair(setName, root, 'train', fix);
  if (!train && mode === 'required') {
    throw new DataError(
      `data: ${root} has no ${setName} training files (${IDX_FILE_NAMES.trainImages}.gz and ` +
        `${IDX_FILE_NAMES.trainLabels}.gz not found); download them into the --data folder to train ` +
        '(evaluation needs only the t10k files)',
      root,
    );
  }

  if (train && !sameShape(train.sampleShape, test.sampleShape)) {
    throw new DataError(
      `data: the ${setName} training images in ${root} are ${train.sampleShape.slice(1).join('×')} but the ` +
        `test images are ${test.sampleShape.slice(1).join('×')}; ${fix}`,
      root,
    );
  }

  const counts = train
    ? `${formatCount(train.length)} train, ${formatCount(test.length)} test`
    : `${formatCount(test.length)} test; no training files`;
  return { train, test, description: `data: ${setName} IDX files in ${root} (${counts})` };
}

/**
 * Opens one images/labels pair. Returns null when neither file exists (a test-only
 * folder has no training pair) and raises when only one of the two exists.
 */
async function openIdxPair(
  setName: IdxSetName,
  root: string,
  part: 'train' | 'test',
  fix: string,
): Promise<StaticImageDataset | null> {
  const imagesName = part === 'train' ? IDX_FILE_NAMES.trainImages : IDX_FILE_NAMES.testImages;
  const labelsName = part === 'train' ? IDX_FILE_NAMES.trainLabels : IDX_FILE_NAMES.testLabels;
  const partWords = part === 'train' ? 'training' : 'test';
  const imagesFile = findMaybeGzipped(root, imagesName);
  const labelsFile = findMaybeGzipped(root, labelsName);

  if (!imagesFile && !labelsFile) return null;
  if (!imagesFile) throw missingFile(root, imagesName, `${setName} ${partWords} images`, fix);
  if (!labelsFile) throw missingFile(root, labelsName, `${setName} ${partWords} labels`, fix);

  const images = await readIdxImages(imagesFile, `${setName} ${partWords} images`, fix);
  const labels = await readIdxLabels(labelsFile, `${setName} ${partWords} labels`, fix);
  if (labels.length !== images.count) {
    throw new DataError(
      `data: ${imagesFile} contains ${formatCount(images.count)} images but ${labelsFile} contains ` +
        `${formatCount(labels.length)} labels; both files must come from the same ${setName} download`,
      labelsFile,
    );
  }

  return new StaticImageDataset({
    name: `${setName} ${part} (${path.basename(imagesFile)})`,
    shape: [1, images.rows, images.cols],
    nClass: N_CLASS,
    labels,
    sources: [{ bytes: images.bytes, start: IMAGES_HEADER_BYTES, stride: images.rows * images.cols, count: images.count }],
    normalisation: MNIST_NORMALISATION,
    augmentation: null,
  });
}

function chooseFolder(setName: IdxSetName, folder: string): string {
  const candidates = [folder, path.join(folder, TORCHVISION_FOLDERS[setName])];
  for (const candidate of candidates) {
    const names = Object.values(IDX_FILE_NAMES);
    if (names.some((name) => findMaybeGzipped(candidate, name))) return candidate;
  }
  return folder;
}

function missingFile(root: string, name: string, contents: string, fix: string): DataError {
  const file = path.join(root, `${name}.gz`);
  return new DataError(`data: ${file} not found; expected the ${contents} there (${fix})`, file);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
