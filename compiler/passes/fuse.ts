// Pass `fuse`: groups the ops of the training step into planned kernels, in execution order,
// and records why each group has the ops it has. Elementwise views (dropout masks, the static
// input's per-step scale) are applied by whichever kernel reads them. A LIF neuron keeps its
// whole time loop in one thread and absorbs the pooling after it. TSSL-BP backward absorbs
// the loss gradient, pooling and dropout backward. Readback kernels write the activations
// that training never writes, and run only on request.

import type { IrModule, KernelGroup, KernelKind, Op } from '../ir/ir';

/** Values per thread of the gradient-norm partial sums. */
export const SQUARES_CHUNK = 256;

const VIEW_KINDS = new Set<Op['kind']>(['dropout', 'dropout_grad', 'scale_time']);

/** Turns a spec layer name into part of a JavaScript identifier. */
function identifierPart(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(cleaned) ? `l_${cleaned}` : cleaned;
}

class GroupBuilder {
  readonly groups: KernelGroup[] = [];
  private readonly names = new Set<string>();

  constructor(private readonly module: IrModule) {}

  add(group: Omit<KernelGroup, 'inputs' | 'saved' | 'recomputes'> & { recomputes?: number[] }): KernelGroup {
    let name = group.name;
    for (let suffix = 2; this.names.has(name); suffix++) name = `${group.name}_${suffix}`;
    this.names.add(name);
    const created: KernelGroup = { ...group, name, recomputes: group.recomputes ?? [], inputs: [], saved: [] };
    this.groups.push(created);
    return created;
  }

  op(id: number): Op {
    return this.module.ops[id];
  }
}

function layerPart(op: Op): string {
  return op.layer === null ? 'network' : identifierPart(op.layer);
}

/**
 * Why conv kernels run on a 3-D thread grid: WebAssembly SIMD computes 4 consecutive x cells
 * at once, and a read indexed only by thread.y and thread.z is one load for all 4 instead of a
 * 4-lane gather.
 */
const CONV_GRID_REASON =
  'threads on a 3-D grid whose x axis is a multiple of 4 cells of one row, so weight reads and row bounds are the same for the 4 cells of a SIMD step';

function synapseReason(ops: Op[], isStatic: boolean): string {
  const parts = [
    isStatic
      ? 'static input folded into the first synapse: S = W ⊛ x once per sample, without a time axis; the neuron scales it by 1 - (1-1/tau_s)^(t+1) per step'
      : 'synapse alone: one thread per output value and step sums its window, since the neuron needs all of a neuron\'s steps',
  ];
  if (ops.some((op) => op.kind === 'dropout')) parts.push('dropout forward applied as a mask multiply while reading the input (one mask for all steps)');
  if (ops.some((op) => op.kind === 'conv')) parts.push(CONV_GRID_REASON);
  if (ops.some((op) => op.kind === 'linear' && op.attrs.lanes !== undefined)) {
    parts.push('over the time-major input, each output value and step gets 4 lane partial sums over consecutive inputs, so the 4 lanes of a SIMD step read 4 consecutive weights and inputs');
  }
  return parts.join('; ');
}

function groupForward(builder: GroupBuilder, module: IrModule): void {
  const forward = module.ops.filter((op) => op.phase === 'forward');
  let pending: Op[] = [];

  for (let index = 0; index < forward.length; index++) {
    const op = forward[index];
    if (VIEW_KINDS.has(op.kind)) {
      pending.push(op);
      continue;
    }
    const ops = [...pending, op];
    pending = [];

    switch (op.kind) {
      case 'encode_events':
        builder.add({
          name: 'input_encode',
          kind: 'encode-events',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'forward',
          reason: 'event input: one thread per value and step runs the synaptic filter over steps 0..t',
        });
        break;
      case 'conv':
      case 'linear': {
        const isStatic = op.results[0].endsWith('.S');
        builder.add({
          name: `${layerPart(op)}_forward`,
          kind: op.kind === 'conv' ? 'conv-forward' : 'linear-forward',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'forward',
          reason: synapseReason(ops, isStatic),
        });
        break;
      }
      case 'lif': {
        // Absorb the dropouts and the one pooling that directly follow the neuron.
        let end = index + 1;
        while (end < forward.length && forward[end].kind === 'dropout') end++;
        const poolFollows = end < forward.length && forward[end].kind === 'sum_pool';
        const absorbed = poolFollows ? forward.slice(index + 1, end + 1) : [];
        const all = [...ops, ...absorbed];
        const pool = poolFollows ? forward[end] : undefined;
        const reasons = [
          'the time loop of each neuron stays in one thread: the thread for step t runs the LIF recurrence over steps 0..t; the synaptic current is saved and backward recomputes du, U, o and psi from it in registers',
        ];
        if (ops.some((item) => item.kind === 'scale_time')) reasons.push('reads the static synaptic sum and scales it per step');
        if (pool !== undefined) {
          reasons.push(`the sum pooling ${pool.layer} reads the neurons of its window directly, so the layer's own PSPs are never written`);
        }
        if (absorbed.some((item) => item.kind === 'dropout')) reasons.push('dropout before the pooling applied as a mask multiply');
        builder.add({
          name: pool !== undefined ? `${layerPart(op)}_lif_${layerPart(pool)}` : `${layerPart(op)}_lif`,
          kind: 'lif-forward',
          ops: all.map((item) => item.id),
          output: (pool ?? op).results[0],
          phase: 'forward',
          reason: reasons.join('; '),
        });
        index = poolFollows ? end : index;
        break;
      }
      case 'pad_columns':
        builder.add({
          name: `${layerPart(op)}_input_padded`,
          kind: 'pad-columns',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'forward',
          reason:
            `one thread per cell copies the conv input into rows with ${op.attrs.left as number} zero columns on each side, so the conv and its weight gradient read whole rows without column tests` +
            (ops.some((item) => item.kind === 'dropout') ? '; dropout applied as a mask multiply while copying' : ''),
        });
        break;
      case 'time_major':
        builder.add({
          name: `${layerPart(op)}_input_time_major`,
          kind: 'time-transpose',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'forward',
          reason:
            'one thread per value copies the layer input from [n, i, t] to [n, t, i], so the linear kernels\' SIMD lanes read 4 consecutive inputs of one step' +
            (ops.some((item) => item.kind === 'dropout') ? '; dropout applied as a mask multiply while copying' : ''),
        });
        break;
      case 'lane_sum':
        builder.add({
          name: `${layerPart(op)}_forward_sum`,
          kind: 'lane-sum',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'forward',
          reason: `one thread per output value and step adds its ${op.attrs.lanes as number} lane partial sums`,
        });
        break;
      case 'sum_pool':
        builder.add({
          name: `${layerPart(op)}_forward`,
          kind: 'pool-forward',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'forward',
          reason:
            'pooling not directly after a neuron: one thread per output value sums its window' +
            (ops.some((item) => item.kind === 'dropout') ? '; dropout before it applied as a mask multiply' : ''),
        });
        break;
      case 'loss':
        builder.add({
          name: 'host_loss',
          kind: 'host',
          ops: ops.map((item) => item.id),
          output: '',
          phase: 'forward',
          reason: 'the loss value is computed on the host from the read-back output PSPs, which predictions need anyway',
        });
        break;
      default:
        throw new Error(`fuse: no forward kernel for snn.${op.kind}`);
    }
  }
}

/** True when the next non-dropout backward op after `index` is a `lif_grad`. */
function poolGradFeedsNeuron(backward: Op[], index: number): boolean {
  let next = index + 1;
  while (next < backward.length && backward[next].kind === 'dropout_grad') next++;
  return next < backward.length && backward[next].kind === 'lif_grad';
}

function lifBackwardReason(ops: Op[]): string {
  const reasons = [
    'TSSL-BP with one thread per neuron and step: recomputes du, U, o and psi from the saved current, then walks steps T-1 down to t keeping the inter-neuron sum and the intra-neuron term in registers',
  ];
  if (ops.some((op) => op.kind === 'loss_grad')) reasons.push('loss gradient computed in the same thread from the output PSPs and the label');
  if (ops.some((op) => op.kind === 'sum_pool_grad')) reasons.push('pooling backward read through its window index map instead of being written');
  if (ops.some((op) => op.kind === 'dropout_grad')) reasons.push('dropout backward applied as a mask multiply on read');
  if (ops.some((op) => op.kind === 'time_dot')) {
    reasons.push('static input: one thread per neuron sums c_t * dE/dI[t] over all steps, which is all the folded first weight gradient needs');
  } else {
    reasons.push('the silent-neuron surrogate (an exp) is evaluated once, at step t, since the walk uses the gradient before it');
  }
  return reasons.join('; ');
}

function groupBackward(builder: GroupBuilder, module: IrModule): void {
  const backward = module.ops.filter((op) => op.phase === 'backward');
  let pending: Op[] = [];

  for (let index = 0; index < backward.length; index++) {
    const op = backward[index];
    if (op.kind === 'loss_grad' || op.kind === 'dropout_grad' || (op.kind === 'sum_pool_grad' && poolGradFeedsNeuron(backward, index))) {
      pending.push(op);
      continue;
    }
    const ops = [...pending, op];
    pending = [];

    switch (op.kind) {
      case 'lif_grad': {
        const next = backward[index + 1];
        if (next !== undefined && next.kind === 'time_dot') {
          ops.push(next);
          index++;
        }
        builder.add({
          name: `${layerPart(op)}_lif_backward`,
          kind: 'lif-backward',
          ops: ops.map((item) => item.id),
          output: ops[ops.length - 1].results[0],
          phase: 'backward',
          reason: lifBackwardReason(ops),
        });
        break;
      }
      case 'conv_input_grad':
      case 'linear_input_grad':
        builder.add({
          name: `${layerPart(op)}_input_grad`,
          kind: op.kind === 'conv_input_grad' ? 'conv-input-grad' : 'linear-input-grad',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'backward',
          reason:
            op.kind === 'conv_input_grad'
              ? `transposed synapse: one thread per input value and step sums the output gradients that read it; ${CONV_GRID_REASON}`
              : op.attrs.time_major === true
                ? 'transposed synapse: one thread per input value and step sums the output gradients that read it; threads on an [input, step, sample] grid and the result time-major, so the 4 lanes of a SIMD step read 4 consecutive weights'
                : 'transposed synapse: one thread per input value and step sums the output gradients that read it',
        });
        break;
      case 'conv_weight_grad':
      case 'linear_weight_grad':
        builder.add({
          name: `${layerPart(op)}_weight_grad`,
          kind: op.kind === 'conv_weight_grad' ? 'conv-weight-grad' : 'linear-weight-grad',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'backward',
          reason:
            op.kind === 'linear_weight_grad'
              ? op.attrs.time_major === true
                ? 'one thread per weight sums gradient times input over batch and steps; threads on an [input, output] grid over the time-major input, so gradient reads are the same for the 4 cells of a SIMD step and input reads are 4 consecutive values'
                : 'one thread per weight sums gradient times input over batch and steps; inputs behind a dropout are masked on read; threads on an [input, output] grid where the inputs are a multiple of 4, so gradient reads are the same for the 4 cells of a SIMD step'
              : op.attrs.lanes !== undefined
                ? `one thread per weight and lane sums gradient times input over batch, rows and the row cells of its lane (cell index modulo ${op.attrs.lanes as number}; a cell is a column and step, or a column without a time axis); threads on a [lane, tap (ky, kx), channels (co, ci)] grid, so the 4 lanes of a SIMD step read 4 consecutive cells of each operand`
                : 'one thread per weight sums gradient times input over batch, positions and steps; inputs behind a dropout are masked on read',
        });
        break;
      case 'lane_sum':
        builder.add({
          name: `${layerPart(op)}_weight_grad_sum`,
          kind: 'lane-sum',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'backward',
          reason: `one thread per weight adds its ${op.attrs.lanes as number} lane partial sums`,
        });
        break;
      case 'time_minor':
        builder.add({
          name: `${layerPart(op)}_input_grad_time_minor`,
          kind: 'time-transpose',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'backward',
          reason: 'one thread per value copies the time-major input gradient back to [n, i, t], the layout the layer before reads',
        });
        break;
      case 'pad_columns':
        builder.add({
          name: `${layerPart(op)}_grad_padded`,
          kind: 'pad-columns',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'backward',
          reason: `one thread per cell copies the output gradient into rows with ${op.attrs.left as number} zero columns on the left and ${op.attrs.right as number} on the right, so the input gradient's SIMD lanes read inside a row at every tap`,
        });
        break;
      case 'sum_pool_grad':
        builder.add({
          name: `${layerPart(op)}_backward`,
          kind: 'pool-backward',
          ops: ops.map((item) => item.id),
          output: op.results[0],
          phase: 'backward',
          reason: 'a pooling that another pooling follows before the next neuron: its gradient is written so the neuron backward reads one window map only',
        });
        break;
      default:
        throw new Error(`fuse: no backward kernel for snn.${op.kind}`);
    }
  }
}

function groupOptimizer(builder: GroupBuilder, module: IrModule): void {
  for (const op of module.ops.filter((candidate) => candidate.phase === 'optimizer')) {
    switch (op.kind) {
      case 'sum_squares':
        builder.add({
          name: `${layerPart(op)}_grad_squares`,
          kind: 'sum-squares',
          ops: [op.id],
          output: op.results[0],
          phase: 'optimizer',
          reason: `one thread per chunk of ${SQUARES_CHUNK} gradient values sums their squares; the host reads the partial sums back and checks them for NaN`,
        });
        break;
      case 'clip_scale':
        builder.add({
          name: 'clip_scale',
          kind: 'clip-scale',
          ops: [op.id],
          output: op.results[0],
          phase: 'optimizer',
          reason: 'one thread adds every partial sum of squares into the global norm and returns the clipping scale, so AdamW runs in the same pass as the gradients',
        });
        break;
      case 'adamw':
        builder.add({
          name: `${layerPart(op)}_adamw`,
          kind: 'adamw',
          ops: [op.id],
          output: op.results[0],
          phase: 'optimizer',
          reason: 'weights, first and second moments packed in one buffer; one thread per packed value recomputes the moment update it needs, so one pass updates all three',
        });
        break;
      default:
        throw new Error(`fuse: no optimiser kernel for snn.${op.kind}`);
    }
  }
}

/** Ops that compute `tensor` as an elementwise view, back to a materialised tensor. */
export function viewChain(module: IrModule, tensor: string, materialised: Set<string>): Op[] {
  const chain: Op[] = [];
  let current = tensor;
  while (!materialised.has(current)) {
    const producer = module.ops.find((op) => op.results.includes(current) && op.phase !== 'readback');
    if (producer === undefined || !VIEW_KINDS.has(producer.kind)) break;
    chain.unshift(producer);
    current = producer.operands[0];
  }
  return chain;
}

function groupReadback(builder: GroupBuilder, module: IrModule): void {
  const materialised = new Set(builder.groups.map((group) => group.output));
  for (const tensor of module.tensors) if (tensor.role === 'feed' || tensor.role === 'parameter') materialised.add(tensor.name);

  // Readback ops the static fold left (the per-step PSPs of the static input path).
  for (const op of module.ops.filter((candidate) => candidate.phase === 'readback')) {
    builder.add({
      name: `${identifierPart(op.results[0].replace(/\.psp$/, ''))}_psp_readback`,
      kind: 'psp-view',
      ops: [op.id],
      recomputes: viewChain(module, op.operands[0], materialised).map((item) => item.id),
      output: op.results[0],
      phase: 'readback',
      reason: 'the static input path is folded out of training; this writes its per-step PSPs when activations are requested',
    });
    materialised.add(op.results[0]);
  }

  // Layer PSPs that fused kernels never write.
  for (const op of module.ops.filter((candidate) => candidate.phase === 'forward' && (candidate.kind === 'lif' || candidate.kind === 'dropout'))) {
    const psp = op.results[0];
    if (materialised.has(psp) || !psp.endsWith('.psp')) continue;
    if (op.kind === 'lif') {
      const producer = module.ops.find((candidate) => candidate.results.includes(op.operands[0]));
      const recomputes = producer !== undefined && producer.kind === 'scale_time' ? [producer.id, op.id] : [op.id];
      builder.add({
        name: `${layerPart(op)}_psp_readback`,
        kind: 'lif-forward',
        ops: [],
        recomputes,
        output: psp,
        phase: 'readback',
        reason: 'the pooling fused into this neuron means training never writes its PSPs; this kernel writes them when activations are requested',
      });
    } else {
      builder.add({
        name: `${layerPart(op)}_psp_readback`,
        kind: 'psp-view',
        ops: [],
        recomputes: viewChain(module, psp, materialised).map((item) => item.id),
        output: psp,
        phase: 'readback',
        reason: 'dropout is applied on read during training; this kernel writes its masked PSPs when activations are requested',
      });
    }
    materialised.add(psp);
  }
}

/** Fills in each group's materialised inputs and the forward tensors backward reads. */
function linkGroups(module: IrModule, groups: KernelGroup[]): void {
  const materialised = new Set(groups.filter((group) => group.kind !== 'host' && group.phase !== 'readback').map((group) => group.output));
  for (const tensor of module.tensors) if (tensor.role === 'feed' || tensor.role === 'parameter' || tensor.role === 'scalar') materialised.add(tensor.name);

  for (const group of groups) {
    const inside = new Set<string>();
    const inputs: string[] = [];
    const ids = [...group.recomputes, ...group.ops];
    for (const id of ids) for (const result of module.ops[id].results) inside.add(result);
    for (const id of ids) {
      for (const operand of module.ops[id].operands) {
        if (inside.has(operand) || inputs.includes(operand)) continue;
        if (materialised.has(operand)) inputs.push(operand);
        else {
          // An operand computed by a view outside the group: read it through the view.
          for (const view of viewChain(module, operand, materialised)) {
            if (!group.recomputes.includes(view.id)) group.recomputes.push(view.id);
            for (const viewOperand of view.operands) if (materialised.has(viewOperand) && !inputs.includes(viewOperand)) inputs.push(viewOperand);
          }
        }
      }
    }
    group.inputs = inputs;
    group.recomputes.sort((a, b) => a - b);
  }

  for (const group of groups) {
    if (group.phase !== 'forward' || group.kind === 'host') continue;
    const readByBackward = groups.some((other) => other.phase === 'backward' && other.inputs.includes(group.output));
    if (readByBackward) group.saved = [group.output];
  }
}

/** Groups every op of a module into kernels and orders them for execution. */
export function fuse(module: IrModule): IrModule {
  const builder = new GroupBuilder(module);
  groupForward(builder, module);
  groupBackward(builder, module);
  groupOptimizer(builder, module);
  groupReadback(builder, module);
  linkGroups(module, builder.groups);
  module.kernels = builder.groups;
  return module;
}

export type { KernelKind };
