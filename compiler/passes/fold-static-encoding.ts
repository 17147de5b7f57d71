// Pass `fold-static-encoding`: a static image is the same current at every step, so its PSP
// is `x·(1 - (1-1/τs)^(t+1))`. Pooling and dropout before the first synapse are linear and
// the same at every step, so the first synaptic sum `S = W ⊛ chain(x)` is computed once and
// scaled per step. The first weight gradient collapses time the same way.

import { addTensor, renumberOps, tensorOf, type IrModule, type Op } from '../ir/ir';
import { staticInputScale } from './lower';

function staticName(tensor: string): string {
  return tensor.replace(/\.psp$/, '') + '.static';
}

/** Rewrites the static input path of a module that already has its backward graph. */
export function foldStaticEncoding(module: IrModule): IrModule {
  const encode = module.ops.find((op) => op.kind === 'encode_static');
  if (encode === undefined) return module;

  const scale = staticInputScale(module.network);
  const ops: Op[] = [];
  const readback: Op[] = [];
  const renamed = new Map<string, string>([['input_psp', 'x']]);
  let firstSynapse: Op | undefined;

  readback.push({ ...encode, kind: 'scale_time', attrs: { scale }, phase: 'readback' });

  for (const op of module.ops) {
    if (op === encode) continue;
    const readsStatic = op.phase === 'forward' && renamed.has(op.operands[0]);

    if (readsStatic && (op.kind === 'sum_pool' || op.kind === 'dropout')) {
      // A chain op before the first synapse now works on the time-less tensor.
      const [result] = op.results;
      const source = tensorOf(module, result);
      const folded = staticName(result);
      addTensor(module, { name: folded, shape: source.shape.slice(0, -1), role: 'activation', layer: source.layer });
      ops.push({ ...op, operands: [renamed.get(op.operands[0]) as string, ...op.operands.slice(1)], results: [folded] });
      readback.push({ id: 0, kind: 'scale_time', results: [result], operands: [folded], attrs: { scale }, layer: op.layer, phase: 'readback' });
      renamed.set(result, folded);
      continue;
    }

    if (readsStatic && (op.kind === 'conv' || op.kind === 'linear') && firstSynapse === undefined) {
      firstSynapse = op;
      const [current] = op.results;
      const layer = op.layer as string;
      const sum = `${layer}.S`;
      addTensor(module, { name: sum, shape: tensorOf(module, current).shape.slice(0, -1), role: 'activation', layer });
      ops.push({ ...op, operands: [renamed.get(op.operands[0]) as string, op.operands[1]], results: [sum] });
      ops.push({ id: 0, kind: 'scale_time', results: [current], operands: [sum], attrs: { scale }, layer, phase: 'forward' });
      continue;
    }

    if (firstSynapse !== undefined && op.kind === 'lif_grad' && op.layer === firstSynapse.layer) {
      const layer = op.layer as string;
      const sumGrad = `${layer}.S.grad`;
      addTensor(module, { name: sumGrad, shape: tensorOf(module, `${layer}.S`).shape, role: 'gradient', layer });
      ops.push(op);
      ops.push({ id: 0, kind: 'time_dot', results: [sumGrad], operands: [op.results[0]], attrs: { scale }, layer, phase: 'backward' });
      continue;
    }

    if (firstSynapse !== undefined && (op.kind === 'conv_weight_grad' || op.kind === 'linear_weight_grad') && op.layer === firstSynapse.layer) {
      const input = op.operands[1];
      ops.push({ ...op, operands: [`${op.layer}.S.grad`, renamed.get(input) ?? input] });
      continue;
    }

    ops.push(op);
  }

  renumberOps(module, [...ops, ...readback]);
  return module;
}
