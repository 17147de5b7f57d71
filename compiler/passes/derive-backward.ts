// Pass `derive-backward`: appends the backward graph, derived from the forward graph by one
// gradient rule per op kind (never per network), then the optimiser ops: per-layer squared
// gradient norms, the global clipping scale and AdamW.

import { addOp, addTensor, tensorOf, type IrModule, type Op } from '../ir/ir';

/** Surrogate width `w` of the TSSL-BP silent-neuron branch. */
const SURROGATE_WIDTH = 0.2;
/** Lower clamp of `-1/δu` at a spike. */
const MIN_SPIKE_SENSITIVITY = -8;

export const ADAMW_ATTRS = {
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weight_decay: 0.01,
  clamp: 4,
};
export const CLIP_ATTRS = { max_norm: 1, eps: 1e-6 };

function gradName(tensor: string): string {
  return `${tensor}.grad`;
}

/** Tensors that depend on a parameter, so the loss has a gradient with respect to them. */
function tensorsNeedingGrad(module: IrModule): Set<string> {
  const needing = new Set(module.tensors.filter((tensor) => tensor.role === 'parameter').map((tensor) => tensor.name));
  for (const op of module.ops) {
    if (op.phase === 'forward' && op.operands.some((operand) => needing.has(operand))) {
      for (const result of op.results) needing.add(result);
    }
  }
  return needing;
}

function declareGrad(module: IrModule, tensor: string): string {
  const source = tensorOf(module, tensor);
  const name = gradName(tensor);
  addTensor(module, { name, shape: [...source.shape], role: 'gradient', layer: source.layer });
  return name;
}

/** Appends the gradient ops of one forward op; `needing` lists the tensors that need a gradient. */
function deriveOp(module: IrModule, op: Op, needing: Set<string>): void {
  const [result] = op.results;
  const resultGrad = gradName(result);
  const [input] = op.operands;
  const emit = (kind: Op['kind'], target: string, operands: string[], attrs: Op['attrs']) =>
    addOp(module, { kind, results: [declareGrad(module, target)], operands, attrs, layer: op.layer, phase: 'backward' });

  switch (op.kind) {
    case 'loss':
      emit('loss_grad', input, op.operands, op.attrs);
      return;
    case 'lif':
      emit('lif_grad', input, [input, resultGrad], {
        ...op.attrs,
        surrogate_width: SURROGATE_WIDTH,
        min_sensitivity: MIN_SPIKE_SENSITIVITY,
        silent_psp: 1 / (4 * (op.attrs.tau_s as number)),
      });
      return;
    case 'conv':
    case 'linear': {
      const weights = op.operands[1];
      emit(op.kind === 'conv' ? 'conv_weight_grad' : 'linear_weight_grad', weights, [resultGrad, input], op.attrs);
      if (needing.has(input)) emit(op.kind === 'conv' ? 'conv_input_grad' : 'linear_input_grad', input, [resultGrad, weights], op.attrs);
      return;
    }
    case 'sum_pool':
      if (needing.has(input)) emit('sum_pool_grad', input, [resultGrad], op.attrs);
      return;
    case 'dropout':
      if (needing.has(input)) emit('dropout_grad', input, [resultGrad, op.operands[1]], op.attrs);
      return;
    case 'encode_static':
    case 'encode_events':
      return;
    default:
      throw new Error(`derive-backward: no gradient rule for snn.${op.kind}`);
  }
}

function appendOptimizer(module: IrModule): void {
  const parameters = module.tensors.filter((tensor) => tensor.role === 'parameter');
  addTensor(module, { name: 'lr', shape: [], role: 'scalar', layer: null });
  addTensor(module, { name: 'step', shape: [], role: 'scalar', layer: null });

  const squares: string[] = [];
  for (const parameter of parameters) {
    const square = `${parameter.name}.grad.sq`;
    addTensor(module, { name: square, shape: [], role: 'gradient', layer: parameter.layer });
    addOp(module, { kind: 'sum_squares', results: [square], operands: [gradName(parameter.name)], attrs: {}, layer: parameter.layer, phase: 'optimizer' });
    squares.push(square);
  }

  addTensor(module, { name: 'grad_scale', shape: [], role: 'gradient', layer: null });
  addOp(module, { kind: 'clip_scale', results: ['grad_scale'], operands: squares, attrs: { ...CLIP_ATTRS }, layer: null, phase: 'optimizer' });

  for (const parameter of parameters) {
    const layer = parameter.layer as string;
    const moments = [`${layer}.m`, `${layer}.v`];
    for (const moment of moments) addTensor(module, { name: moment, shape: [...parameter.shape], role: 'parameter', layer });
    const results = [parameter.name, ...moments].map((name) => `${name}.next`);
    for (const result of results) addTensor(module, { name: result, shape: [...parameter.shape], role: 'parameter', layer });
    addOp(module, {
      kind: 'adamw',
      results,
      operands: [parameter.name, ...moments, gradName(parameter.name), 'grad_scale', 'lr', 'step'],
      attrs: { ...ADAMW_ATTRS },
      layer,
      phase: 'optimizer',
    });
  }
}

/** Appends backward and optimiser ops to a module holding the forward graph. */
export function deriveBackward(module: IrModule): IrModule {
  const needing = tensorsNeedingGrad(module);
  const forward = module.ops.filter((op) => op.phase === 'forward');
  for (const op of [...forward].reverse()) deriveOp(module, op, needing);
  appendOptimizer(module);
  return module;
}
