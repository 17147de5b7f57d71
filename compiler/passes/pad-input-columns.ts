// Pass `pad-input-columns`: gives a stride-1 conv with column padding an input whose rows carry
// the padding as zero columns. The forward sum's 4 SIMD lanes read 4 consecutive input cells
// per tap. With column padding, some of those lie outside the row at its ends, so each tap
// tested its column and the lanes read one by one under a mask. `snn.pad_columns` copies the
// input (with any dropout mask applied) into padded rows once per step. The conv and its
// weight gradient then read it with no column padding, so every read is one vector load and
// the weight gradient can be split over lanes.

import { addTensor, renumberOps, tensorOf, type IrModule, type Op } from '../ir/ir';

/** Checks that a conv has column padding and stride 1 along the columns. */
function qualifies(op: Op): boolean {
  if (op.kind !== 'conv') return false;
  const [, strideX] = op.attrs.stride as [number, number];
  const [, padX] = op.attrs.padding as [number, number];
  return strideX === 1 && padX > 0;
}

/** Rewrites every qualifying conv and its weight gradient to read a column-padded input. */
export function padInputColumns(module: IrModule): IrModule {
  const padded = new Map<string, { input: string; paddedInput: string; padX: number }>();
  for (const op of module.ops) {
    if (op.phase !== 'forward' || !qualifies(op)) continue;
    const [, padX] = op.attrs.padding as [number, number];
    const input = op.operands[0];
    padded.set(op.layer as string, { input, paddedInput: `${input}.padded`, padX });
  }
  if (padded.size === 0) return module;

  const ops: Op[] = [];
  for (const op of module.ops) {
    const layer = op.layer === null ? undefined : padded.get(op.layer);
    const rewrite = layer !== undefined && ((op.kind === 'conv' && op.phase === 'forward') || op.kind === 'conv_weight_grad');
    if (!rewrite) {
      ops.push(op);
      continue;
    }
    const [padY] = op.attrs.padding as [number, number];
    const attrs = { ...op.attrs, padding: [padY, 0], input_columns: [layer.padX, layer.padX] };
    if (op.kind === 'conv') {
      const shape = [...tensorOf(module, layer.input).shape];
      shape[3] = (shape[3] as number) + 2 * layer.padX;
      addTensor(module, { name: layer.paddedInput, shape, role: 'activation', layer: op.layer });
      ops.push({ id: 0, kind: 'pad_columns', results: [layer.paddedInput], operands: [layer.input], attrs: { left: layer.padX, right: layer.padX }, layer: op.layer, phase: 'forward' });
      ops.push({ ...op, operands: [layer.paddedInput, ...op.operands.slice(1)], attrs });
    } else {
      ops.push({ ...op, operands: [op.operands[0], layer.paddedInput, ...op.operands.slice(2)], attrs });
    }
  }
  renumberOps(module, ops);
  return module;
}
