// Runtime data: the interfaces every data set implements and the options of `openData`.

import type { InputEncoding, SampleShape } from '../../common/network';
import type { Rng } from '../rng';

/** One labelled set of samples, kept as raw bytes (or event files) and normalised per batch. */
export interface Dataset {
  /** Set and source files, e.g. `MNIST test (t10k-images-idx3-ubyte.gz)`. */
  readonly name: string;
  readonly length: number;
  /** `[channels, height, width]` of one sample. */
  readonly sampleShape: SampleShape;
  readonly encoding: InputEncoding;
  readonly nClass: number;
  /** Returns the class index of sample `index`. */
  label(index: number): number;
  /**
   * Writes sample `index` normalised (and augmented when `augment` is given) at
   * out[offset…]: c·h·w values, or c·h·w·T (time fastest) for events.
   */
  write(index: number, out: Float32Array, offset: number, augment?: Rng): void;
}

export interface DataSplit {
  /** Null when the folder holds only test files, or when `train: 'skip'` was requested. */
  train: Dataset | null;
  test: Dataset;
  /** One line for the start of run output, starting with `data:`. */
  description: string;
}

export interface OpenDataOptions {
  /** Folder with the standard files (`--data`); overrides the spec's `data_path`. */
  dataDir?: string | null;
  /** Time steps `T`; event data is binned into this many steps. */
  nSteps: number;
  /**
   * Seed of the train/test split of the embedded MNIST digits. Defaults to
   * `EMBEDDED_SPLIT_SEED`. Changing it moves digits between the two parts, so a run
   * and its evaluation must use the same value.
   */
  seed?: number;
  /**
   * Handling of the training files: `optional` (default) opens them when present and
   * sets `train` to null when none are there, `required` raises a `DataError` naming
   * the missing files, `skip` never reads them (evaluation of large sets).
   */
  train?: 'optional' | 'required' | 'skip';
  /**
   * N-MNIST bin width in microseconds: step `t` contains the events with timestamps in
   * [t·width, (t+1)·width). Defaults to 3000 (3 ms). Null spreads the `T` bins evenly
   * over each sample's own first-to-last event span.
   */
  eventBinUs?: number | null;
}
