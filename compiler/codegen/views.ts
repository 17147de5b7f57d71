// Code generation, read paths: how a kernel reaches an op's operand that no buffer stores.
// The read goes through dropout masks, the static input's per-step scale or, backward, a
// pooling window map, back to a buffer that some kernel wrote.

import type { IrModule, Op } from '../ir/ir';
import { viewChain } from '../passes/fuse';

/**
 * Tensors that exist as buffers during training: outputs of training kernels, feeds and
 * parameters. Readback outputs are left out, because training kernels never wait for them.
 */
export function materialisedTensors(module: IrModule): Set<string> {
  const names = new Set<string>();
  for (const kernel of module.kernels ?? []) if (kernel.kind !== 'host' && kernel.phase !== 'readback') names.add(kernel.output);
  for (const tensor of module.tensors) if (tensor.role === 'feed' || tensor.role === 'parameter') names.add(tensor.name);
  return names;
}

/** An elementwise read: `source[...]` times every mask at the same neuron, times a per-step scale. */
export interface ElementwiseRead {
  source: string;
  masks: string[];
  /** Per-step factors when the source is static (no time axis). */
  scale: number[] | null;
}

/** Resolves `tensor` through elementwise views (dropout, dropout_grad, scale_time) to a buffer. */
export function elementwiseRead(module: IrModule, tensor: string, materialised: Set<string>): ElementwiseRead {
  const read: ElementwiseRead = { source: tensor, masks: [], scale: null };
  for (const op of viewChain(module, tensor, materialised).reverse()) applyView(read, op);
  return read;
}

function applyView(read: ElementwiseRead, op: Op): void {
  if (op.kind === 'dropout' || op.kind === 'dropout_grad') read.masks.push(op.operands[1]);
  else if (op.kind === 'scale_time') read.scale = op.attrs.scale as number[];
  read.source = op.operands[0];
}

/** Pooling geometry as the window maps need it. */
export interface PoolGeometry {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  theta: number;
}

export function poolGeometry(op: Op): PoolGeometry {
  return {
    kernel: op.attrs.kernel as [number, number],
    stride: op.attrs.stride as [number, number],
    padding: op.attrs.padding as [number, number],
    theta: op.attrs.theta as number,
  };
}

/**
 * Source of `∂E/∂ψ` for a neuron backward: the loss, or a gradient buffer read through the
 * masks after the fused pooling, the pooling's window map, and the masks before it.
 */
export type GradientSource =
  | { kind: 'loss'; loss: Op }
  | { kind: 'buffer'; source: string; masksAfterPool: string[]; pool: { op: Op; geometry: PoolGeometry; output: string } | null; masksBeforePool: string[] };

/** Resolves the upstream gradient of a `lif_grad` op inside its kernel group. */
export function gradientSource(module: IrModule, lifGrad: Op, materialised: Set<string>): GradientSource {
  let tensor = lifGrad.operands[1];
  const masksBeforePool: string[] = [];
  const masksAfterPool: string[] = [];
  let pool: { op: Op; geometry: PoolGeometry; output: string } | null = null;

  while (!materialised.has(tensor)) {
    const producer = module.ops.find((op) => op.results.includes(tensor) && op.phase === 'backward');
    if (producer === undefined) throw new Error(`codegen: no producer for gradient %${tensor}`);
    if (producer.kind === 'loss_grad') return { kind: 'loss', loss: producer };
    if (producer.kind === 'dropout_grad') (pool === null ? masksBeforePool : masksAfterPool).push(producer.operands[1]);
    else if (producer.kind === 'sum_pool_grad') {
      if (pool !== null) throw new Error(`codegen: two pooling windows fused into one neuron backward at %${tensor}`);
      const forwardOutput = producer.operands[0].replace(/\.grad$/, '');
      pool = { op: producer, geometry: poolGeometry(producer), output: forwardOutput };
    } else throw new Error(`codegen: snn.${producer.kind} cannot be read through inside a neuron backward`);
    tensor = producer.operands[0];
  }
  return { kind: 'buffer', source: tensor, masksAfterPool, pool, masksBeforePool };
}
