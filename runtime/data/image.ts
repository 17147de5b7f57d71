// Runtime data: static image sets kept as raw bytes, normalised and augmented per sample.

import type { InputEncoding, SampleShape } from '../../common/network';
import type { Rng } from '../rng';
import type { Dataset } from './dataset';

/** Per-channel normalisation `(pixel/255 − mean)/std`. */
export interface Normalisation {
  mean: number[];
  std: number[];
}

/** MNIST statistics; the reference TSSL-BP runs use them for Fashion-MNIST too. */
export const MNIST_NORMALISATION: Normalisation = { mean: [0.1307], std: [0.3081] };

/** CIFAR-10 per-channel statistics (R, G, B) of the reference TSSL-BP runs. */
export const CIFAR10_NORMALISATION: Normalisation = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2023, 0.1994, 0.201],
};

/** Random crop after zero padding, then a horizontal flip with probability 0.5. */
export interface CropFlip {
  /** Zero pixels added on each side before the crop back to the original size. */
  padding: number;
  flip: boolean;
}

/** A run of equally spaced samples inside one buffer, e.g. one file's pixel records. */
export interface PixelSource {
  bytes: Uint8Array;
  /** Byte offset of the first sample's first pixel. */
  start: number;
  /** Bytes from one sample's first pixel to the next one's. */
  stride: number;
  count: number;
}

export interface StaticImageOptions {
  name: string;
  shape: SampleShape;
  nClass: number;
  /** One label per underlying sample, in the order of `sources`. */
  labels: Uint8Array;
  sources: PixelSource[];
  normalisation: Normalisation;
  /** Applied only when `write` receives an `Rng`; null means none. */
  augmentation: CropFlip | null;
  /** Underlying sample for each dataset index; absent means all samples in order. */
  select?: Int32Array;
}

/**
 * Images stored as channel-major bytes (`[c, h, w]` per sample), converted to float32
 * only when written into a batch, which keeps CIFAR-10's 50,000 training images at
 * 150 MB instead of 600 MB.
 */
export class StaticImageDataset implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly sampleShape: SampleShape;
  readonly encoding: InputEncoding = 'static';
  readonly nClass: number;
  readonly augmentation: CropFlip | null;

  private readonly labels: Uint8Array;
  private readonly sources: PixelSource[];
  private readonly select: Int32Array | null;
  /** Per channel, the normalised float32 value of each byte value 0–255. */
  private readonly lookup: Float32Array[];

  constructor(options: StaticImageOptions) {
    this.name = options.name;
    this.sampleShape = options.shape;
    this.nClass = options.nClass;
    this.augmentation = options.augmentation;
    this.labels = options.labels;
    this.sources = options.sources;
    this.select = options.select ?? null;
    this.length = this.select ? this.select.length : options.labels.length;
    this.lookup = buildLookup(options.normalisation, options.shape[0]);
  }

  label(index: number): number {
    return this.labels[this.underlying(index)];
  }

  /** Returns the raw bytes of sample `index` (a view, `[c, h, w]`), for inspection and tests. */
  pixels(index: number): Uint8Array {
    const [bytes, start] = this.locate(this.underlying(index));
    const [c, h, w] = this.sampleShape;
    return bytes.subarray(start, start + c * h * w);
  }

  write(index: number, out: Float32Array, offset: number, augment?: Rng): void {
    const [bytes, start] = this.locate(this.underlying(index));
    if (augment && this.augmentation) {
      this.writeAugmented(bytes, start, out, offset, this.augmentation, augment);
      return;
    }

    const [c, h, w] = this.sampleShape;
    const plane = h * w;
    for (let channel = 0; channel < c; channel++) {
      const lookup = this.lookup[channel];
      const from = start + channel * plane;
      const to = offset + channel * plane;
      for (let i = 0; i < plane; i++) out[to + i] = lookup[bytes[from + i]];
    }
  }

  /**
   * Pads with zero pixels, crops back to h×w at a random offset, then flips with
   * probability 0.5, as torchvision's RandomCrop(padding) and RandomHorizontalFlip do on
   * the image before ToTensor and Normalize. The padding is therefore pixel value 0,
   * which becomes −mean/std after normalisation, not 0. Draws: row offset, column
   * offset, then the flip.
   */
  private writeAugmented(
    bytes: Uint8Array,
    start: number,
    out: Float32Array,
    offset: number,
    augmentation: CropFlip,
    rng: Rng,
  ): void {
    const [c, h, w] = this.sampleShape;
    const pad = augmentation.padding;
    const shiftY = rng.integer(2 * pad + 1) - pad;
    const shiftX = rng.integer(2 * pad + 1) - pad;
    const flip = augmentation.flip && rng.uniform() < 0.5;
    const plane = h * w;

    for (let channel = 0; channel < c; channel++) {
      const lookup = this.lookup[channel];
      const padValue = lookup[0];
      for (let y = 0; y < h; y++) {
        const sourceY = y + shiftY;
        const rowOut = offset + channel * plane + y * w;
        if (sourceY < 0 || sourceY >= h) {
          out.fill(padValue, rowOut, rowOut + w);
          continue;
        }
        const rowIn = start + channel * plane + sourceY * w;
        for (let x = 0; x < w; x++) {
          const sourceX = (flip ? w - 1 - x : x) + shiftX;
          out[rowOut + x] = sourceX < 0 || sourceX >= w ? padValue : lookup[bytes[rowIn + sourceX]];
        }
      }
    }
  }

  private underlying(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`sample index ${index} is outside ${this.name}, which has ${this.length} samples`);
    }
    return this.select ? this.select[index] : index;
  }

  private locate(sample: number): [Uint8Array, number] {
    let rest = sample;
    for (const source of this.sources) {
      if (rest < source.count) return [source.bytes, source.start + rest * source.stride];
      rest -= source.count;
    }
    throw new RangeError(`sample ${sample} is beyond the pixel data of ${this.name}`);
  }
}

function buildLookup(normalisation: Normalisation, channels: number): Float32Array[] {
  const tables: Float32Array[] = [];
  for (let channel = 0; channel < channels; channel++) {
    const mean = normalisation.mean[channel];
    const std = normalisation.std[channel];
    const table = new Float32Array(256);
    for (let value = 0; value < 256; value++) table[value] = (value / 255 - mean) / std;
    tables.push(table);
  }
  return tables;
}
