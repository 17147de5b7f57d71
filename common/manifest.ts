// Shared data model: the shape of `manifest.json`, which the compiler writes and the runtime
// reads back, so both sides check against one declaration.

import type { Network } from './network';

export const MANIFEST_FORMAT = 'snnc-manifest';
export const MANIFEST_VERSION = 1;

export type KernelPhase = 'forward' | 'backward' | 'optimizer' | 'readback';
export type ScalarName = 'lr' | 'biasCorrection1' | 'biasCorrection2' | 'inverseBatch';

export interface ManifestKernelArg {
  /** Parameter name in the kernel function. */
  name: string;
  /** Buffer bound to the parameter, or the host scalar. */
  buffer?: string;
  scalar?: ScalarName;
}

export interface KernelOutput {
  buffer: string;
  perSample: number;
  fixed: number;
  /**
   * Thread grid `[x, y]`. When present, the kernel runs on an `[x, y, size / (x·y)]` grid and
   * the buffer is that grid flattened with x fastest. Values from `this.thread.y` and
   * `this.thread.z` are the same for the 4 cells of a WebAssembly SIMD step. Absent: a flat `[size]`.
   */
  grid?: [number, number];
}

export interface ManifestKernel {
  name: string;
  /** Template family, e.g. `conv-forward`, `lif-backward`. */
  kind: string;
  phase: KernelPhase;
  /** Buffer written, and its size `perSample·batch + fixed` (one thread per value). */
  output: KernelOutput;
  args: ManifestKernelArg[];
  /** JavaScript source of the kernel function. */
  source: string;
  /** The IR ops the kernel implements, as printed in `ir.txt`. */
  ops: string[];
  reason: string;
}

export interface ManifestBuffer {
  name: string;
  shape: (number | 'N')[];
  role: string;
  /** Elements per sample (times the batch) plus a fixed count. */
  perSample: number;
  fixed: number;
  /** Size and bytes at the compiled batch size. */
  elements: number;
  bytes: number;
  /** `[width, height]` of the texture the flat buffer folds into on GL backends. */
  texture: [number, number];
  /** Tensors packed in the buffer, in order (a parameter buffer contains weights, m, v). */
  packs: string[];
}

export interface ManifestParameter {
  layer: string;
  /** Packed `[weights, m, v]` buffer. */
  buffer: string;
  shape: number[];
  size: number;
  init: { distribution: 'uniform'; bound: number; scale: number } | { distribution: 'normal'; std: number; scale: number };
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  network: Network;
  compiledBatchSize: number;
  texture: { maxSide: number; largestSide: number; fits: boolean };
  kernels: ManifestKernel[];
  buffers: ManifestBuffer[];
  parameters: ManifestParameter[];
  feeds: { input: string; labels: string; masks: Record<string, string> };
  /**
   * Kernel names in execution order; `host:loss` marks the host step that computes the loss from
   * the read-back output PSPs. The optimizer phase ends with the clipping-scale kernel and AdamW.
   */
  schedule: { forward: string[]; backward: string[]; optimizer: string[]; evaluate: string[] };
  outputs: { outputPsp: string; weightGrads: Record<string, string>; gradSquares: Record<string, string> };
  /** Per activation name (`input_psp` or a layer), its buffer and the readback kernels that write it. */
  activations: { name: string; buffer: string; kernels: string[] }[];
}
