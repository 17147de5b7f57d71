// Pass `pad-gradient-columns`: gives a stride-1 conv input gradient an output gradient whose
// rows have zero columns on both sides. One thread per input cell `[column, step]` sums the
// output-gradient cells its window taps read. With stride 1, the 4 SIMD lanes of a tap read 4
// consecutive cells. At the row ends some of those lie outside the row, so without padding
// the lanes either test each column or read out of range. `snn.pad_columns` copies the
// gradient into rows with enough zero columns that every tap reads inside its row, so each
// read is one vector load and needs no test.

import { addTensor, isTimed, renumberOps, SIMD_WIDTH, tensorOf, type IrModule, type Op } from '../ir/ir';

/** Zero columns needed left and right of the output gradient, or null when the op does not qualify. */
export function gradientColumns(module: IrModule, op: Op): [number, number] | null {
  const T = module.network.nSteps;
  const gradShape = tensorOf(module, op.operands[0]).shape;
  const inShape = tensorOf(module, op.results[0]).shape;
  if (!isTimed(module, gradShape)) return null;
  const [, kernelW] = op.attrs.kernel as [number, number];
  const [, strideX] = op.attrs.stride as [number, number];
  const [, padX] = op.attrs.padding as [number, number];
  const [, dilationX] = (op.attrs.dilation as [number, number] | undefined) ?? [1, 1];
  const inW = inShape[3] as number;
  const outW = gradShape[3] as number;
  if (strideX !== 1 || (inW * T) % SIMD_WIDTH !== 0) return null;
  // Input column ix reads output column ix + padX - kx * dilationX for every tap kx.
  const left = Math.max(0, (kernelW - 1) * dilationX - padX);
  const right = Math.max(0, inW - 1 + padX - (outW - 1));
  return [left, right];
}

/** Rewrites every qualifying conv input gradient to read a column-padded output gradient. */
export function padGradientColumns(module: IrModule): IrModule {
  const ops: Op[] = [];
  for (const op of module.ops) {
    const columns = op.kind === 'conv_input_grad' ? gradientColumns(module, op) : null;
    if (columns === null) {
      ops.push(op);
      continue;
    }
    const [left, right] = columns;
    if (left === 0 && right === 0) {
      ops.push({ ...op, attrs: { ...op.attrs, grad_columns: columns } });
      continue;
    }
    const gradient = op.operands[0];
    const padded = `${gradient}.padded`;
    const shape = [...tensorOf(module, gradient).shape];
    shape[3] = (shape[3] as number) + left + right;
    if (!module.tensors.some((tensor) => tensor.name === padded)) {
      addTensor(module, { name: padded, shape, role: 'gradient', layer: op.layer });
      ops.push({ id: 0, kind: 'pad_columns', results: [padded], operands: [gradient], attrs: { left, right }, layer: op.layer, phase: 'backward' });
    }
    ops.push({ ...op, operands: [padded, ...op.operands.slice(1)], attrs: { ...op.attrs, grad_columns: columns } });
  }
  renumberOps(module, ops);
  return module;
}
