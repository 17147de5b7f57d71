// Pass `split-weight-grad`: splits the sum of a conv weight gradient over its 4 SIMD lanes.
// A row of the output gradient and the matching input row are `[column, step]` cells (columns
// alone without a time axis), laid out consecutively. With stride 1 and no column padding, a
// weight's sum over a row is a dot product of two runs of consecutive values. One thread per
// weight and lane sums the cells whose index is that lane modulo 4, so the 4 lanes of a SIMD
// step read 4 consecutive values of each operand, one vector load each, instead of 4 scalar
// loads. `snn.lane_sum` then adds a weight's 4 partial sums.

import { addTensor, isTimed, producerOf, renumberOps, SIMD_WIDTH, tensorOf, type IrModule, type Op } from '../ir/ir';

/** Checks that a conv weight gradient's rows are runs of consecutive cells of both operands. */
function splittable(module: IrModule, op: Op): boolean {
  const gradShape = tensorOf(module, op.operands[0]).shape;
  // A static first layer's gradient has no time axis: its cells are columns alone.
  const T = isTimed(module, gradShape) ? module.network.nSteps : 1;
  const [, strideX] = op.attrs.stride as [number, number];
  const [, padX] = op.attrs.padding as [number, number];
  const outW = gradShape[3] as number;
  // A dropout mask has no time axis, so the masked input is not a run of consecutive cells.
  const maskedSource = producerOf(module, op.operands[1])?.kind === 'dropout';
  return strideX === 1 && padX === 0 && (outW * T) % SIMD_WIDTH === 0 && !maskedSource;
}

/** Rewrites every splittable conv weight gradient into lane partial sums and their sum. */
export function splitWeightGrad(module: IrModule): IrModule {
  const ops: Op[] = [];
  for (const op of module.ops) {
    if (op.kind !== 'conv_weight_grad' || !splittable(module, op)) {
      ops.push(op);
      continue;
    }
    const [gradient] = op.results;
    const partials = `${gradient}.lanes`;
    const shape = tensorOf(module, gradient).shape;
    addTensor(module, { name: partials, shape: [...shape, SIMD_WIDTH], role: 'gradient', layer: op.layer });
    ops.push({ ...op, results: [partials], attrs: { ...op.attrs, lanes: SIMD_WIDTH } });
    ops.push({ id: 0, kind: 'lane_sum', results: [gradient], operands: [partials], attrs: { lanes: SIMD_WIDTH }, layer: op.layer, phase: 'backward' });
  }
  renumberOps(module, ops);
  return module;
}
