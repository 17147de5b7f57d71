// Runtime support: reads reference-vector files (one forward and backward pass exported from
// a PyTorch TSSL-BP implementation) for `snnc verify` and the tests.

import type { TensorMap } from './engine';

export interface GoldenTensor {
  shape: number[];
  data: Float32Array;
}

export interface GoldenCase {
  /** Spec file name the case was made for. */
  spec: string;
  /** `[channels, height, width]` of one image. */
  inputShape: [number, number, number];
  batch: number;
  nSteps: number;
  /** `batch × channels × height × width` normalised input currents, row-major. */
  images: Float32Array;
  labels: Int32Array;
  /** Conv `[out, in, kh, kw, 1]`, linear `[out, in]`. */
  weights: Record<string, GoldenTensor>;
  /** Output PSP per layer name plus `input_psp`, `[batch, c, h, w, T]`. */
  activations: Record<string, GoldenTensor>;
  loss: number;
  weightGrads: Record<string, GoldenTensor>;
}

export class GoldenFormatError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'GoldenFormatError';
  }
}

function readTensorMap(file: string, value: unknown, field: string): Record<string, GoldenTensor> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GoldenFormatError(file, `field '${field}' must be an object of {shape, data} tensors`);
  }
  const tensors: Record<string, GoldenTensor> = {};
  for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
    const tensor = entry as { shape?: unknown; data?: unknown };
    if (!Array.isArray(tensor.shape) || !Array.isArray(tensor.data)) {
      throw new GoldenFormatError(file, `'${field}.${name}' must have array fields 'shape' and 'data'`);
    }
    const shape = tensor.shape as number[];
    const expected = shape.reduce((a, b) => a * b, 1);
    if (tensor.data.length !== expected) {
      throw new GoldenFormatError(
        file,
        `'${field}.${name}' has ${tensor.data.length} values but its shape [${shape.join(', ')}] needs ${expected}`,
      );
    }
    tensors[name] = { shape, data: Float32Array.from(tensor.data as number[]) };
  }
  return tensors;
}

/** Parses the JSON text of a reference-vector file; `file` names it in error messages. */
export function parseGolden(file: string, text: string): GoldenCase {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new GoldenFormatError(file, `not valid JSON (${(error as Error).message})`);
  }
  for (const field of ['input_shape', 'batch', 'n_steps', 'images', 'labels', 'weights', 'loss']) {
    if (!(field in raw)) throw new GoldenFormatError(file, `missing field '${field}'`);
  }
  const inputShape = raw.input_shape as [number, number, number];
  const batch = raw.batch as number;
  const images = Float32Array.from(raw.images as number[]);
  const expectedImages = batch * inputShape[0] * inputShape[1] * inputShape[2];
  if (images.length !== expectedImages) {
    throw new GoldenFormatError(
      file,
      `'images' has ${images.length} values but batch ${batch} × [${inputShape.join(', ')}] needs ${expectedImages}`,
    );
  }
  return {
    spec: String(raw.spec ?? ''),
    inputShape,
    batch,
    nSteps: raw.n_steps as number,
    images,
    labels: Int32Array.from(raw.labels as number[]),
    weights: readTensorMap(file, raw.weights, 'weights'),
    activations: readTensorMap(file, raw.activations ?? {}, 'activations'),
    loss: raw.loss as number,
    weightGrads: readTensorMap(file, raw.weight_grads ?? {}, 'weight_grads'),
  };
}

/** Returns the case's weights as flat arrays keyed by layer name (the trailing conv 1 is layout only). */
export function goldenWeights(golden: GoldenCase): TensorMap {
  const weights: TensorMap = {};
  for (const [name, tensor] of Object.entries(golden.weights)) weights[name] = tensor.data;
  return weights;
}

/** `max|actual - expected| / max|expected|`, the tolerance measure of the reference vectors. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= maxDiff)) maxDiff = Number.isNaN(diff) ? Infinity : diff;
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  if (maxRef === 0) return maxDiff;
  return maxDiff / maxRef;
}
