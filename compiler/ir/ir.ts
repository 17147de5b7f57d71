// IR, data model: a time-unrolled dataflow graph of one training step. Tensors carry full
// shapes `[batch, channels, height, width, time]` with the batch symbolic (`N`) until run time;
// passes add backward and optimiser ops, kernel groups and a buffer plan.

import type { ManifestBuffer } from '../../common/manifest';
import type { Network } from '../../common/network';

/** One axis of a tensor shape: a fixed size, or the symbolic batch `N`. */
export type Dim = number | 'N';
export type Shape = Dim[];

/**
 * Role of a tensor in the training step. `feed` tensors come from the caller per batch
 * (images, labels, dropout masks), `parameter` tensors live across steps, `scalar` tensors
 * are per-step host values (learning rate, clipping scale).
 */
export type TensorRole = 'feed' | 'parameter' | 'activation' | 'gradient' | 'scalar';

export interface Tensor {
  name: string;
  shape: Shape;
  role: TensorRole;
  /** Spec layer the tensor belongs to, or null for network-wide tensors. */
  layer: string | null;
}

export type AttrValue = number | string | boolean | number[] | string[];
export type Attrs = Record<string, AttrValue>;

export type OpKind =
  // forward
  | 'encode_static'
  | 'encode_events'
  | 'scale_time'
  | 'conv'
  | 'linear'
  | 'lif'
  | 'sum_pool'
  | 'dropout'
  | 'loss'
  // backward
  | 'loss_grad'
  | 'lif_grad'
  | 'time_dot'
  | 'conv_input_grad'
  | 'conv_weight_grad'
  | 'lane_sum'
  | 'pad_columns'
  | 'time_major'
  | 'time_minor'
  | 'linear_input_grad'
  | 'linear_weight_grad'
  | 'sum_pool_grad'
  | 'dropout_grad'
  // optimiser
  | 'sum_squares'
  | 'clip_scale'
  | 'adamw';

export type Phase = 'forward' | 'backward' | 'optimizer' | 'readback';

export interface Op {
  /** Position in `IrModule.ops`; stable once assigned. */
  id: number;
  kind: OpKind;
  results: string[];
  operands: string[];
  attrs: Attrs;
  /** Spec layer the op implements, or null for network-wide ops (loss, clipping). */
  layer: string | null;
  /** `readback` ops only compute tensors for `keepActivations`; training never runs them. */
  phase: Phase;
}

/** Template families of the code generator; each kernel group names one. */
export type KernelKind =
  | 'encode-events'
  | 'conv-forward'
  | 'linear-forward'
  | 'lif-forward'
  | 'pool-forward'
  | 'lif-backward'
  | 'conv-input-grad'
  | 'linear-input-grad'
  | 'conv-weight-grad'
  | 'lane-sum'
  | 'pad-columns'
  | 'time-transpose'
  | 'linear-weight-grad'
  | 'pool-backward'
  | 'psp-view'
  | 'sum-squares'
  | 'clip-scale'
  | 'adamw'
  | 'host';

export interface KernelGroup {
  /** Kernel name, a valid JavaScript identifier, e.g. `conv_1_forward`. */
  name: string;
  kind: KernelKind;
  /** Ids of the ops this kernel implements, in graph order; every op is in one group. */
  ops: number[];
  /** Ids of ops whose values the kernel recomputes in registers instead of reading them. */
  recomputes: number[];
  /** The tensor the kernel writes (one value per thread); empty for host steps. */
  output: string;
  /** Materialised tensors the kernel reads. */
  inputs: string[];
  /** Forward tensors that backward kernels read from this kernel's output. */
  saved: string[];
  phase: Phase;
  /** Reason these ops share one kernel, or the reason a single op gets its own. */
  reason: string;
}

/** One buffer the runtime allocates: a materialised tensor or a packed parameter set, with the kernels that write and read it. */
export interface BufferPlan extends ManifestBuffer {
  shape: Shape;
  role: TensorRole | 'partials';
  /** Kernel that writes the buffer, or `feed` / `host`. */
  writer: string;
  readers: string[];
}

export interface IrModule {
  network: Network;
  /** Tensors in creation order, which is the order the dump lists them. */
  tensors: Tensor[];
  ops: Op[];
  /** Set by the `fuse` pass: kernels in execution order. */
  kernels: KernelGroup[] | null;
  /** Set by the `plan-buffers` pass. */
  buffers: BufferPlan[] | null;
  /** Largest texture side the buffer plan checks against. */
  maxTextureSize: number;
}

/** Creates an empty module for `network`. */
export function createModule(network: Network): IrModule {
  return { network, tensors: [], ops: [], kernels: null, buffers: null, maxTextureSize: 16384 };
}

/** Returns the tensor named `name`, or throws naming the missing tensor. */
export function tensorOf(module: IrModule, name: string): Tensor {
  const tensor = module.tensors.find((candidate) => candidate.name === name);
  if (tensor === undefined) throw new Error(`IR: no tensor named %${name}`);
  return tensor;
}

/** Adds a tensor; a name may be declared only once. */
export function addTensor(module: IrModule, tensor: Tensor): Tensor {
  if (module.tensors.some((existing) => existing.name === tensor.name)) {
    throw new Error(`IR: tensor %${tensor.name} is declared twice`);
  }
  module.tensors.push(tensor);
  return tensor;
}

/** Appends an op and returns it with its id. */
export function addOp(module: IrModule, op: Omit<Op, 'id'>): Op {
  const created: Op = { id: module.ops.length, ...op };
  module.ops.push(created);
  return created;
}

/** Cells a WebAssembly SIMD step computes at once: 4 consecutive `thread.x` values. */
export const SIMD_WIDTH = 4;

/** Checks that `shape` is `[N, c, h, w, T]`, with the module's time axis last. */
export function isTimed(module: IrModule, shape: Shape): boolean {
  return shape.length === 5 && shape[4] === module.network.nSteps;
}

/** Returns the op that produces `tensor`, or undefined for feeds and parameters. */
export function producerOf(module: IrModule, tensor: string): Op | undefined {
  return module.ops.find((op) => op.results.includes(tensor));
}

/** Returns the ops that read `tensor`, in graph order. */
export function consumersOf(module: IrModule, tensor: string, phases?: Phase[]): Op[] {
  return module.ops.filter((op) => op.operands.includes(tensor) && (phases === undefined || phases.includes(op.phase)));
}

/** Re-numbers op ids after ops were removed or reordered. */
export function renumberOps(module: IrModule, ops: Op[]): void {
  const renumbered = ops.map((op, index) => ({ ...op, id: index }));
  module.ops = renumbered;
}

/** Element count of `shape` with the batch set to `batch`. */
export function elementCount(shape: Shape, batch: number): number {
  return shape.reduce<number>((product, dim) => product * (dim === 'N' ? batch : dim), 1);
}

/** Element count per sample (batch excluded) and the fixed part, so `size = perSample·N + fixed`. */
export function sizeTerms(shape: Shape): { perSample: number; fixed: number } {
  if (shape.includes('N')) return { perSample: elementCount(shape, 1), fixed: 0 };
  return { perSample: 0, fixed: elementCount(shape, 1) };
}

/** Returns a deep copy, so a pass can change its module without touching its input. */
export function cloneModule(module: IrModule): IrModule {
  return structuredClone(module);
}
