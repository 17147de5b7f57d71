// Pass `time-major-linear`: lays the inputs of a linear layer out time-major for its kernels.
// Activations are `[n, i, t]` with the step innermost, so the inputs of one step are 5 apart
// (for T = 5) and the 4 SIMD lanes of a kernel that runs over inputs read them one by one.
// `snn.time_major` copies the layer's input to `[n, t, i]`. The forward sum then gives each
// output 4 lane partial sums over consecutive inputs (added by `snn.lane_sum`), and the weight
// gradient runs its lanes over consecutive inputs. The input gradient is computed time-major,
// where its lanes read consecutive weights, and `snn.time_minor` copies it back to `[n, i, t]`.

import { addTensor, isTimed, renumberOps, SIMD_WIDTH, tensorOf, type IrModule, type Op, type Shape } from '../ir/ir';

/** Returns the `[N, T, c, h, w]` form of a `[N, c, h, w, T]` shape. */
function timeMajorShape(shape: Shape): Shape {
  return [shape[0], shape[4], shape[1], shape[2], shape[3]];
}

/** Checks that a linear layer's input has a time axis and a multiple of 4 values per step. */
function qualifies(module: IrModule, op: Op): boolean {
  const shape = tensorOf(module, op.operands[0]).shape;
  if (!isTimed(module, shape) || !isTimed(module, tensorOf(module, op.results[0]).shape)) return false;
  const inputs = (shape[1] as number) * (shape[2] as number) * (shape[3] as number);
  return inputs % SIMD_WIDTH === 0;
}

/** Rewrites every qualifying linear layer to read and write its inputs time-major. */
export function timeMajorLinear(module: IrModule): IrModule {
  const layers = new Map<string, { input: string; inputMajor: string }>();
  for (const op of module.ops) {
    if (op.kind !== 'linear' || !qualifies(module, op)) continue;
    const input = op.operands[0];
    layers.set(op.layer as string, { input, inputMajor: `${input}.time_major` });
  }
  if (layers.size === 0) return module;

  const ops: Op[] = [];
  for (const op of module.ops) {
    const layer = op.layer === null ? undefined : layers.get(op.layer);
    if (layer === undefined) {
      ops.push(op);
      continue;
    }
    switch (op.kind) {
      case 'linear': {
        const inputShape = tensorOf(module, layer.input).shape;
        addTensor(module, { name: layer.inputMajor, shape: timeMajorShape(inputShape), role: 'activation', layer: op.layer });
        ops.push({ id: 0, kind: 'time_major', results: [layer.inputMajor], operands: [layer.input], attrs: {}, layer: op.layer, phase: 'forward' });
        const [current] = op.results;
        const partials = `${current}.lanes`;
        addTensor(module, { name: partials, shape: [...tensorOf(module, current).shape, SIMD_WIDTH], role: 'activation', layer: op.layer });
        ops.push({ ...op, operands: [layer.inputMajor, op.operands[1]], results: [partials], attrs: { ...op.attrs, lanes: SIMD_WIDTH } });
        ops.push({ id: 0, kind: 'lane_sum', results: [current], operands: [partials], attrs: { lanes: SIMD_WIDTH }, layer: op.layer, phase: 'forward' });
        break;
      }
      case 'linear_weight_grad':
        ops.push({ ...op, operands: [op.operands[0], layer.inputMajor], attrs: { ...op.attrs, time_major: true } });
        break;
      case 'linear_input_grad': {
        const [inputGrad] = op.results;
        const major = `${inputGrad}.time_major`;
        addTensor(module, { name: major, shape: timeMajorShape(tensorOf(module, inputGrad).shape), role: 'gradient', layer: op.layer });
        ops.push({ ...op, results: [major], attrs: { ...op.attrs, time_major: true } });
        ops.push({ id: 0, kind: 'time_minor', results: [inputGrad], operands: [major], attrs: {}, layer: op.layer, phase: 'backward' });
        break;
      }
      default:
        ops.push(op);
    }
  }
  renumberOps(module, ops);
  return module;
}
