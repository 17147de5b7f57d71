// Runtime contract: what a training engine offers the trainer, the verifier and the
// benchmark, whichever backend computes it.

import type { Network } from '../common/network';

/** Layer name → row-major float32 values, in the layouts of `Network` weight shapes. */
export type TensorMap = Record<string, Float32Array>;

/** One batch as the engine consumes it. */
export interface Batch {
  /** Number of samples in this batch; may be smaller than the compiled batch size. */
  size: number;
  /**
   * Normalised input currents. Static input: `[batch, channels, height, width]`.
   * Event input: `[batch, channels, height, width, T]`, time fastest.
   */
  input: Float32Array;
  /** One class index per sample. */
  labels: Int32Array;
}

/** Everything one forward and backward pass produced, read back to the host. */
export interface PassResult {
  loss: number;
  /** The last layer's output PSPs, `[batch, n_class, 1, 1, T]`. */
  outputPsp: Float32Array;
  /** Loss gradient per trainable layer, same layout as the weights. */
  weightGrads: TensorMap;
  /** Output PSP per layer name plus `input_psp`, `[batch, c, h, w, T]`; only when requested. */
  activations?: TensorMap;
}

export interface StepResult {
  loss: number;
  outputPsp: Float32Array;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/** AdamW state that a checkpoint must carry to resume exactly. */
export interface OptimizerState {
  step: number;
  m: TensorMap;
  v: TensorMap;
}

export interface PassOptions {
  /** Per dropout layer, `[batch, c, h, w]` values of 0 or `1/(1-p)`; absent means identity. */
  dropoutMasks?: TensorMap;
  /** Read back every layer's PSP into `PassResult.activations`. */
  keepActivations?: boolean;
}

export interface Engine {
  readonly network: Network;
  /** gpu.js backend that runs the kernels, e.g. `webasm`, or `reference`. */
  readonly backend: string;

  getWeights(): TensorMap;
  setWeights(weights: TensorMap): void;
  getOptimizerState(): OptimizerState;
  setOptimizerState(state: OptimizerState): void;

  /** Forward, loss and backward; no weight update. */
  forwardBackward(batch: Batch, options?: PassOptions): Promise<PassResult>;

  /**
   * One training step: forward, loss, backward, global gradient-norm clipping to 1,
   * AdamW with decoupled weight decay 0.01, then weights clamped to [-4, 4].
   * Throws `NonFiniteError` naming the layer when the loss or a gradient is NaN or infinite.
   */
  trainStep(batch: Batch, lr: number, options?: PassOptions): Promise<StepResult>;

  /** Evaluation forward pass (no dropout); returns output PSPs `[batch, n_class, 1, 1, T]`. */
  forward(batch: Batch): Promise<Float32Array>;

  dispose(): void;
}

/** A NaN or infinity met during a step; `where` names the layer or `loss`. */
export class NonFiniteError extends Error {
  constructor(readonly where: string, readonly value: number) {
    super(`non-finite value ${value} in ${where}`);
    this.name = 'NonFiniteError';
  }
}
