// Pass `plan-buffers`: one flat float32 buffer per materialised tensor, sized per sample so the
// runtime can allocate for its batch. A layer's weights and AdamW moments share one packed
// buffer. Records the bytes at the compiled batch size and the 2-D texture each buffer folds
// into on the GL backends, and checks it against the texture size limit.

import { elementCount, sizeTerms, tensorOf, type BufferPlan, type IrModule, type Shape } from '../ir/ir';
import { SQUARES_CHUNK } from './fuse';

/** gpu.js's folding of a flat array into a near-square texture (`utils.closestSquareDimensions`). */
export function textureSize(length: number): [number, number] {
  const root = Math.sqrt(length);
  let high = Math.ceil(root);
  let low = Math.floor(root);
  while (high * low < length) {
    high--;
    low = Math.ceil(length / high);
  }
  return [low, Math.ceil(length / low)];
}

/** Name of the buffer packing a layer's weights, first and second moments. */
export function parameterBufferName(layer: string): string {
  return `${layer}.params`;
}

/** Maps every tensor that lives in a packed parameter buffer to that buffer and its offset in units of the weight count. */
export function parameterSlot(tensor: string): { layer: string; slot: number } | null {
  const match = /^(.*)\.(w|m|v)(\.next)?$/.exec(tensor);
  if (match === null) return null;
  return { layer: match[1], slot: ['w', 'm', 'v'].indexOf(match[2]) };
}

/** Returns the name of the buffer that stores `tensor`. */
export function bufferOf(module: IrModule, tensor: string): string {
  const slot = parameterSlot(tensor);
  if (slot !== null && tensorOf(module, tensor).role === 'parameter') return parameterBufferName(slot.layer);
  return tensor;
}

function plan(module: IrModule, name: string, shape: Shape, role: BufferPlan['role'], packs: string[], writer: string): BufferPlan {
  const terms = sizeTerms(shape);
  const elements = elementCount(shape, module.network.batchSize);
  return {
    name,
    shape,
    role,
    perSample: terms.perSample,
    fixed: terms.fixed,
    elements,
    bytes: elements * 4,
    texture: textureSize(Math.max(1, elements)),
    packs,
    writer,
    readers: [],
  };
}

/** Plans every buffer of a fused module. */
export function planBuffers(module: IrModule): IrModule {
  if (module.kernels === null) throw new Error('plan-buffers: run the fuse pass first');
  const buffers: BufferPlan[] = [];

  for (const tensor of module.tensors) {
    if (tensor.role === 'feed') buffers.push(plan(module, tensor.name, tensor.shape, 'feed', [tensor.name], 'feed'));
  }
  for (const tensor of module.tensors) {
    if (tensor.role !== 'parameter' || !tensor.name.endsWith('.w')) continue;
    const layer = tensor.layer as string;
    const packed = [`${layer}.w`, `${layer}.m`, `${layer}.v`];
    const buffer = plan(module, parameterBufferName(layer), [3, ...tensor.shape], 'parameter', packed, 'host');
    buffers.push(buffer);
  }

  for (const kernel of module.kernels) {
    if (kernel.kind === 'host') continue;
    const name = bufferOf(module, kernel.output);
    const existing = buffers.find((buffer) => buffer.name === name);
    if (existing !== undefined) {
      existing.writer = kernel.name;
      continue;
    }
    if (kernel.kind === 'sum-squares') {
      const gradient = tensorOf(module, kernel.inputs[0]);
      const partials = Math.ceil(elementCount(gradient.shape, 1) / SQUARES_CHUNK);
      buffers.push(plan(module, name, [partials], 'partials', [kernel.output], kernel.name));
      continue;
    }
    const tensor = tensorOf(module, kernel.output);
    buffers.push(plan(module, name, tensor.shape, tensor.role, [kernel.output], kernel.name));
  }

  for (const kernel of module.kernels) {
    for (const input of kernel.inputs) {
      const buffer = buffers.find((candidate) => candidate.name === bufferOf(module, input));
      if (buffer !== undefined && !buffer.readers.includes(kernel.name)) buffer.readers.push(kernel.name);
    }
  }

  module.buffers = buffers;
  return module;
}

/** Buffers whose texture would exceed the limit at the compiled batch size. */
export function oversizedBuffers(module: IrModule): BufferPlan[] {
  return (module.buffers ?? []).filter((buffer) => Math.max(...buffer.texture) > module.maxTextureSize);
}
