// Code generation, template contexts: for each kernel group, the numbers its template bakes
// in (shapes, strides, padding, dilation, tau_m, tau_s, thresholds, loop bounds), the kernel
// arguments and the buffers they bind to. A context is a pure function of the group.

import type { KernelOutput, ScalarName } from '../../common/manifest';
import type { IrModule, KernelGroup, KernelKind, Op, Shape } from '../ir/ir';
import { elementCount, isTimed, SIMD_WIDTH, sizeTerms, tensorOf } from '../ir/ir';
import { formatOp, formatShape } from '../ir/print';
import { SQUARES_CHUNK } from '../passes/fuse';
import { bufferOf } from '../passes/plan-buffers';
import { decomposeIndex, float, int, type IndexAxis } from './literals';
import { elementwiseRead, gradientSource, materialisedTensors, poolGeometry, type ElementwiseRead } from './views';


export interface KernelParam {
  /** Parameter name in the generated function. */
  name: string;
  /** Buffer bound to it, or the host scalar. */
  buffer?: string;
  scalar?: ScalarName;
}

export interface KernelContext {
  group: KernelGroup;
  /** The template file: the kernel kind's, or a variant of it. */
  template:
    | Exclude<KernelKind, 'host'>
    | 'conv-weight-grad-lanes'
    | 'conv-input-grad-padded'
    | 'linear-forward-lanes'
    | 'linear-weight-grad-time-major'
    | 'linear-input-grad-time-major';
  params: KernelParam[];
  output: KernelOutput;
  /** Lines of the header comment: IR ops, constants baked in, arguments. */
  header: string[];
  values: Record<string, unknown>;
}

function maskParam(mask: string): string {
  return `mask_${mask.replace(/\.mask$/, '').replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function ops(module: IrModule, group: KernelGroup): Op[] {
  return group.ops.map((id) => module.ops[id]);
}

function findOp(module: IrModule, group: KernelGroup, kinds: Op['kind'][]): Op {
  const found = [...group.ops, ...group.recomputes].map((id) => module.ops[id]).find((op) => kinds.includes(op.kind));
  if (found === undefined) throw new Error(`codegen: kernel ${group.name} has no snn.${kinds.join('/')} op`);
  return found;
}

/** `[channels, height, width]` of an activation shape `[N, c, h, w, (T)]`. */
function planeShape(shape: Shape): [number, number, number] {
  return [shape[1] as number, shape[2] as number, shape[3] as number];
}

/** Axes of a thread over `[N, c, h, w, (T)]`, fastest first, with the given names. */
function activationAxes(shape: Shape, timed: boolean, names: [string, string, string]): IndexAxis[] {
  const [channels, height, width] = planeShape(shape);
  const axes: IndexAxis[] = [];
  if (timed) axes.push({ name: 't', size: shape[4] as number });
  axes.push({ name: names[2], size: width }, { name: names[1], size: height }, { name: names[0], size: channels });
  return axes;
}

/**
 * Threads of a kernel whose output axes are, fastest first, `xAxes`, then `yAxis`, then
 * `zAxes` and the remaining quotient `zLast` (null when `yAxis` is the slowest). On an `[x, y, z]` grid, coordinates from
 * `thread.y` and `thread.z` are uniform across a WebAssembly SIMD step, so reads indexed only
 * by them are single loads instead of four-lane gathers. The grid is used only when the x row
 * is a multiple of the SIMD width: threaded gpu.js webasm runs other rows without SIMD.
 * Otherwise the same coordinates come from a flat `thread.x`.
 */
function threadLayout(
  module: IrModule,
  tensor: string,
  xAxes: IndexAxis[],
  yAxis: IndexAxis,
  zAxes: IndexAxis[],
  zLast: string | null,
): { output: KernelOutput; indexLines: string[] } {
  const rowLength = xAxes.reduce((product, axis) => product * axis.size, 1);
  const output = outputTerms(module, tensor);
  if (rowLength % SIMD_WIDTH !== 0) {
    const flat = zLast === null ? decomposeIndex('this.thread.x', xAxes, yAxis.name) : decomposeIndex('this.thread.x', [...xAxes, yAxis, ...zAxes], zLast);
    return { output, indexLines: flat };
  }
  const xLast = xAxes[xAxes.length - 1].name;
  return {
    output: { ...output, grid: [rowLength, yAxis.size] },
    indexLines: [
      ...decomposeIndex('this.thread.x', xAxes.slice(0, -1), xLast).map((line) => line.replace(/\brest(\d)/g, 'restX$1')),
      `const ${yAxis.name} = this.thread.y;`,
      ...(zLast === null ? [] : decomposeIndex('this.thread.z', zAxes, zLast).map((line) => line.replace(/\brest(\d)/g, 'restZ$1'))),
    ],
  };
}

function outputTerms(module: IrModule, tensor: string): { buffer: string; perSample: number; fixed: number } {
  const terms = sizeTerms(tensorOf(module, tensor).shape);
  return { buffer: bufferOf(module, tensor), ...terms };
}

function header(module: IrModule, group: KernelGroup, constants: string[], params: KernelParam[]): string[] {
  const lines = [`${group.name} (${group.kind}): ${group.reason}.`, 'IR ops:'];
  for (const id of group.ops) lines.push(`  ${formatOp(module, module.ops[id])}`);
  if (group.recomputes.length > 0) {
    lines.push('Recomputed in registers:');
    for (const id of group.recomputes) lines.push(`  ${formatOp(module, module.ops[id])}`);
  }
  lines.push(`Constants: ${constants.join(', ')}.`);
  const bound = params.map((param) => `${param.name} = ${param.buffer !== undefined ? `buffer ${param.buffer}` : `host scalar ${param.scalar}`}`);
  lines.push(`Arguments: ${bound.join(', ')}.`);
  lines.push(`Output: ${group.output !== '' ? `%${group.output} ${formatShape(tensorOf(module, group.output).shape)}` : 'none'}, one value per thread.`);
  return lines;
}

function maskParams(read: ElementwiseRead): KernelParam[] {
  return read.masks.map((mask) => ({ name: maskParam(mask), buffer: mask }));
}

function neuronConstants(module: IrModule, lif: Op) {
  const tauM = lif.attrs.tau_m as number;
  const tauS = lif.attrs.tau_s as number;
  return {
    negThetaM: float(-1 / tauM),
    oneMinusThetaM: float(1 - 1 / tauM),
    threshold: float(lif.attrs.threshold as number),
    tauS: float(tauS),
    invTauS: float(1 / tauS),
    decay: float(1 - 1 / tauS),
    steps: module.network.nSteps,
  };
}

/**
 * Builds the per-step contexts of `lif-step.hbs`, the LIF recurrence. `suffix` names the
 * neuron's variables (u, psp, du, o) where a kernel runs several neurons side by side.
 */
function forwardSteps(module: IrModule, lif: Op, read: ElementwiseRead, keepTrace: boolean, suffix = '') {
  const constants = neuronConstants(module, lif);
  return Array.from({ length: module.network.nSteps }, (_, k) => ({
    k,
    keepTrace,
    suffix,
    negThetaM: constants.negThetaM,
    threshold: constants.threshold,
    tauS: constants.tauS,
    current: read.scale !== null ? `staticSum${suffix} * ${float(read.scale[k])}` : `source[base${suffix} + ${k}]`,
  }));
}

/**
 * Most neurons of a pooling window whose recurrences one kernel interleaves step by step. Each
 * neuron's recurrence is a chain of dependent operations, so running the 4 neurons of a 2x2 window
 * side by side made conv_1's LIF and pooling kernel about 35% faster on webasm. Larger windows
 * keep the loop, because their neurons would not fit in the registers.
 */
const MAX_INTERLEAVED_NEURONS = 4;

/** Builds the per-step contexts of a pooling window's neurons, run side by side, and each neuron's offset from the first. */
function interleavedWindow(module: IrModule, lif: Op, read: ElementwiseRead, kernel: [number, number], width: number) {
  const neurons = [];
  for (let ky = 0; ky < kernel[0]; ky++) {
    for (let kx = 0; kx < kernel[1]; kx++) neurons.push({ suffix: `_${neurons.length}`, offset: ky * width + kx });
  }
  const perNeuron = neurons.map((neuron) => forwardSteps(module, lif, read, false, neuron.suffix));
  return {
    neurons,
    steps: Array.from({ length: module.network.nSteps }, (_, k) => ({ k, neurons: perNeuron.map((steps) => steps[k]) })),
  };
}

function convGeometry(op: Op) {
  const [kernelH, kernelW] = op.attrs.kernel as [number, number];
  const [strideY, strideX] = op.attrs.stride as [number, number];
  const [padY, padX] = op.attrs.padding as [number, number];
  const [dilationY, dilationX] = (op.attrs.dilation as [number, number] | undefined) ?? [1, 1];
  return { kernelH, kernelW, strideY, strideX, padY, padX, dilationY, dilationX };
}

function geometryConstants(geometry: ReturnType<typeof convGeometry>): string {
  return (
    `kernel ${geometry.kernelH}x${geometry.kernelW}, stride ${geometry.strideY}x${geometry.strideX}, ` +
    `padding ${geometry.padY}x${geometry.padX}, dilation ${geometry.dilationY}x${geometry.dilationX}`
  );
}

/**
 * Most partial sums a conv kernel keeps. With one sum, each addition waits for the one before.
 * 4 sums made conv_2's forward and input gradient on webasm about 10% faster.
 */
const MAX_ACCUMULATORS = 4;

/**
 * Most partial sums of the kernels whose terms read two vectors each: the split weight gradient
 * and the lane-split linear forward. On webasm, 2 sums made conv_2's weight gradient about 20%
 * faster and FC_1's forward about 30% faster, and 4 sums were slower than 2.
 */
const MAX_VECTOR_ACCUMULATORS = 2;

/** Partial sums for `terms` unrolled terms: their indices, count and the expression adding them. */
function accumulatorValues(terms: number, limit = MAX_ACCUMULATORS): { accumulators: number[]; accumulatorCount: number; accumulatorSum: string } {
  const count = Math.max(1, Math.min(limit, terms));
  const accumulators = Array.from({ length: count }, (_, index) => index);
  return { accumulators, accumulatorCount: count, accumulatorSum: accumulators.map((index) => `sum${index}`).join(' + ') };
}

/** Unrolled terms at `offsets`, each with the partial sum it adds to, taken in turn. */
function spreadTerms(offsets: number[], accumulatorCount: number): { offset: number; accumulator: number }[] {
  return offsets.map((offset, index) => ({ offset, accumulator: index % accumulatorCount }));
}

/** Most output channels the conv input gradient sums per loop iteration. */
const MAX_CHANNEL_UNROLL = 8;

function largestDivisorUpTo(value: number, limit: number): number {
  for (let divisor = Math.min(value, limit); divisor > 1; divisor--) if (value % divisor === 0) return divisor;
  return 1;
}

/** Quotient expression of a window offset known to be divisible by the stride. */
function divideExpression(offset: string, stride: number): string {
  return stride === 1 ? offset : `(${offset} / ${stride}) | 0`;
}

/** Values per sample and step of a time-major `[N, T, c, h, w]` tensor. */
function valuesPerStep(shape: Shape): number {
  return (shape[2] as number) * (shape[3] as number) * (shape[4] as number);
}

/** Most terms a linear kernel sums per loop iteration. */
const MAX_LINEAR_UNROLL = 8;

function linearForwardLanes(module: IrModule, group: KernelGroup, op: Op): KernelContext {
  const T = module.network.nSteps;
  const lanes = op.attrs.lanes as number;
  const nInputs = valuesPerStep(tensorOf(module, op.operands[0]).shape);
  const nOutputs = tensorOf(module, op.results[0]).shape[1] as number;
  const unroll = largestDivisorUpTo(nInputs / lanes, MAX_LINEAR_UNROLL);
  const sums = accumulatorValues(unroll, MAX_VECTOR_ACCUMULATORS);
  const params: KernelParam[] = [
    { name: 'source', buffer: bufferOf(module, op.operands[0]) },
    { name: 'weights', buffer: bufferOf(module, op.operands[1]) },
  ];
  return {
    group,
    template: 'linear-forward-lanes',
    params,
    output: { ...outputTerms(module, op.results[0]), grid: [lanes, T] },
    header: header(module, group, [`inputs ${nInputs}`, `outputs ${nOutputs}`, `T ${T}`, `${lanes} lanes`], params),
    values: {
      summary: `I[n, o, t, lane] = sum over the inputs i with i % ${lanes} == lane of W[o, i] * psp[n, t, i] (time-major input); threads on a [${lanes}, ${T}, rest] grid`,
      indexLines: decomposeIndex('this.thread.z', [{ name: 'o', size: nOutputs }], 'n'),
      nInputs,
      steps: T,
      blocks: nInputs / (lanes * unroll),
      blockSize: lanes * unroll,
      ...sums,
      blockTerms: spreadTerms(Array.from({ length: unroll }, (_, k) => k * lanes), sums.accumulatorCount),
    },
  };
}

function synapseForward(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const op = findOp(module, group, ['conv', 'linear']);
  if (op.kind === 'linear' && op.attrs.lanes !== undefined) return linearForwardLanes(module, group, op);
  const read = elementwiseRead(module, op.operands[0], materialised);
  const sourceShape = tensorOf(module, read.source).shape;
  const outShape = tensorOf(module, op.results[0]).shape;
  const timed = isTimed(module, outShape);
  const T = module.network.nSteps;
  const [inChannels, inH, inW] = planeShape(sourceShape);
  const params: KernelParam[] = [
    { name: 'source', buffer: bufferOf(module, read.source) },
    { name: 'weights', buffer: bufferOf(module, op.operands[1]) },
    ...maskParams(read),
  ];
  const timeFactor = timed ? T : 1;

  if (op.kind === 'linear') {
    const nInputs = inChannels * inH * inW;
    const nOutputs = outShape[1] as number;
    const axes: IndexAxis[] = timed ? [{ name: 't', size: T }, { name: 'o', size: nOutputs }] : [{ name: 'o', size: nOutputs }];
    return {
      group,
      template: 'linear-forward',
      params,
      output: outputTerms(module, op.results[0]),
      header: header(module, group, [`inputs ${nInputs}`, `outputs ${nOutputs}`, timed ? `T ${T}` : 'static (no time axis)'], params),
      values: {
        summary: `I[n, o${timed ? ', t' : ''}] = sum_i W[o, i] * psp[n, i${timed ? ', t' : ''}]${read.masks.length > 0 ? ' * mask[n, i]' : ''}`,
        indexLines: decomposeIndex('this.thread.x', axes, 'n'),
        timed,
        steps: T,
        nInputs,
        sourceSample: nInputs * timeFactor,
        hasMasks: read.masks.length > 0,
        masks: read.masks.map(maskParam),
      },
    };
  }

  const geometry = convGeometry(op);
  const [outChannels, outH, outW] = planeShape(outShape);
  const columnAxes: IndexAxis[] = timed ? [{ name: 't', size: T }, { name: 'ox', size: outW }] : [{ name: 'ox', size: outW }];
  const threads = threadLayout(module, op.results[0], columnAxes, { name: 'oy', size: outH }, [{ name: 'co', size: outChannels }], 'n');
  const tapSums = accumulatorValues(geometry.kernelW);
  return {
    group,
    template: 'conv-forward',
    params,
    output: threads.output,
    header: header(
      module,
      group,
      [`in [${inChannels}, ${inH}, ${inW}]`, `out [${outChannels}, ${outH}, ${outW}]`, geometryConstants(geometry), timed ? `T ${T}` : 'static (no time axis)'],
      params,
    ),
    values: {
      summary: `conv: I[n, co, oy, ox${timed ? ', t' : ''}] = sum over ci, ky, kx of W[co, ci, ky, kx] * psp[n, ci, oy*${geometry.strideY} - ${geometry.padY} + ky*${geometry.dilationY}, ox*${geometry.strideX} - ${geometry.padX} + kx*${geometry.dilationX}${timed ? ', t' : ''}]; padding reads zero`,
      indexLines: threads.indexLines,
      timed,
      steps: T,
      ...geometry,
      inChannels,
      inH,
      inW,
      sourceSample: inChannels * inH * inW * timeFactor,
      laneColumns: threads.output.grid !== undefined && geometry.strideX === 1,
      padColumns: geometry.padX * timeFactor,
      sourcePlane: inH * inW * timeFactor,
      sourceRow: inW * timeFactor,
      ...tapSums,
      taps: Array.from({ length: geometry.kernelW }, (_, kx) => ({
        kx,
        accumulator: kx % tapSums.accumulatorCount,
        column: kx * geometry.dilationX,
        sourceOffset: kx * geometry.dilationX * timeFactor,
      })),
      maskSample: inChannels * inH * inW,
      maskPlane: inH * inW,
      weightOut: inChannels * geometry.kernelH * geometry.kernelW,
      weightPlane: geometry.kernelH * geometry.kernelW,
      checkRows: geometry.padY > 0,
      checkColumns: geometry.padX > 0,
      hasMasks: read.masks.length > 0,
      masks: read.masks.map(maskParam),
      unrollRows: geometry.padY === 0 && geometry.padX === 0 && read.masks.length === 0,
      windowTaps: Array.from({ length: geometry.kernelH * geometry.kernelW }, (_, index) => {
        const ky = Math.floor(index / geometry.kernelW);
        const kx = index % geometry.kernelW;
        return {
          weight: index,
          source: ky * geometry.dilationY * inW * timeFactor + kx * geometry.dilationX * timeFactor,
          accumulator: index % tapSums.accumulatorCount,
        };
      }),
    },
  };
}

function lifForward(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const lif = findOp(module, group, ['lif']);
  const read = elementwiseRead(module, lif.operands[0], materialised);
  const lifShape = tensorOf(module, lif.results[0]).shape;
  const [channels, height, width] = planeShape(lifShape);
  const T = module.network.nSteps;
  const pool = ops(module, group).find((op) => op.kind === 'sum_pool');
  const poolMasks = pool !== undefined ? elementwiseRead(module, pool.operands[0], new Set([lif.results[0]])).masks : [];
  const params: KernelParam[] = [
    { name: 'source', buffer: bufferOf(module, read.source) },
    ...poolMasks.map((mask) => ({ name: maskParam(mask), buffer: mask })),
  ];
  const constants = [
    `tau_m ${lif.attrs.tau_m}`,
    `tau_s ${lif.attrs.tau_s}`,
    `threshold ${lif.attrs.threshold}`,
    `T ${T}`,
    `neurons [${channels}, ${height}, ${width}]`,
  ];
  if (read.scale !== null) constants.push(`static input scale per step [${read.scale.map((value) => float(value)).join(', ')}]`);

  let poolValues: Record<string, unknown> | null = null;
  let window: ReturnType<typeof interleavedWindow> | null = null;
  let indexLines: string[];
  if (pool !== undefined) {
    const geometry = poolGeometry(pool);
    const poolShape = tensorOf(module, pool.results[0]).shape;
    constants.push(`pooling ${geometry.kernel.join('x')} stride ${geometry.stride.join('x')} padding ${geometry.padding.join('x')} theta ${geometry.theta}`);
    indexLines = decomposeIndex('this.thread.x', activationAxes(poolShape, true, ['c', 'py', 'px']), 'n');
    poolValues = {
      kernelH: geometry.kernel[0],
      kernelW: geometry.kernel[1],
      strideY: geometry.stride[0],
      strideX: geometry.stride[1],
      padY: geometry.padding[0],
      padX: geometry.padding[1],
      theta: float(geometry.theta),
      checkRows: geometry.padding[0] > 0 || (poolShape[2] as number) * geometry.stride[0] + geometry.kernel[0] - geometry.stride[0] > height,
      checkColumns: geometry.padding[1] > 0 || (poolShape[3] as number) * geometry.stride[1] + geometry.kernel[1] - geometry.stride[1] > width,
    };
    if (!poolValues.checkRows && !poolValues.checkColumns && geometry.kernel[0] * geometry.kernel[1] <= MAX_INTERLEAVED_NEURONS) {
      window = interleavedWindow(module, lif, read, geometry.kernel as [number, number], width);
    }
  } else {
    indexLines = decomposeIndex('this.thread.x', [{ name: 't', size: T }], 'neuron');
  }

  const output = (pool ?? lif).results[0];
  return {
    group,
    template: 'lif-forward',
    params,
    output: outputTerms(module, output),
    header: header(module, group, constants, params),
    values: {
      summary:
        pool !== undefined
          ? `LIF neurons of each pooling window run steps 0..t; returns theta * sum of their PSPs at step t`
          : `LIF neuron: runs the recurrence over steps 0..t and returns the PSP at step t`,
      indexLines,
      static: read.scale !== null,
      steps: T,
      channels,
      height,
      width,
      pool: poolValues,
      window,
      masks: poolMasks.map(maskParam),
      forwardSteps: forwardSteps(module, lif, read, false),
    },
  };
}

function lifBackward(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const lifGrad = findOp(module, group, ['lif_grad']);
  const read = elementwiseRead(module, lifGrad.operands[0], materialised);
  const shape = tensorOf(module, lifGrad.operands[0]).shape;
  const [channels, height, width] = planeShape(shape);
  const T = module.network.nSteps;
  const timeDot = ops(module, group).find((op) => op.kind === 'time_dot');
  const collapse = timeDot !== undefined;
  const constants = neuronConstants(module, lifGrad);
  const source = gradientSource(module, lifGrad, materialised);
  const params: KernelParam[] = [{ name: 'source', buffer: bufferOf(module, read.source) }];
  const guarded = !collapse;
  const baked = [
    `tau_m ${lifGrad.attrs.tau_m}`,
    `tau_s ${lifGrad.attrs.tau_s}`,
    `threshold ${lifGrad.attrs.threshold}`,
    `T ${T}`,
    `surrogate width ${lifGrad.attrs.surrogate_width}`,
    `silent below psp ${float(lifGrad.attrs.silent_psp as number)}`,
    `-1/du clamped to [${lifGrad.attrs.min_sensitivity}, 0]`,
    `neurons [${channels}, ${height}, ${width}]`,
  ];
  if (read.scale !== null) baked.push(`static input scale per step [${read.scale.map((value) => float(value)).join(', ')}]`);

  const axes = collapse ? [] : [{ name: 't', size: T }];
  const indexLines = decomposeIndex('this.thread.x', axes, 'neuron');
  const values: Record<string, unknown> = {
    summary: collapse
      ? 'TSSL-BP backward of one neuron; returns sum_t scale[t] * dE/dI[t], the gradient of the static synaptic sum'
      : 'TSSL-BP backward: dE/dI of one neuron at step t',
    indexLines,
    static: read.scale !== null,
    steps: T,
    channels,
    collapse,
    threshold: constants.threshold,
    silentPsp: float(lifGrad.attrs.silent_psp as number),
    width: float(lifGrad.attrs.surrogate_width as number),
    forwardSteps: forwardSteps(module, lifGrad, read, true),
    backwardSteps: Array.from({ length: T }, (_, index) => {
      const k = T - 1 - index;
      return {
        k,
        guarded,
        last: k === T - 1,
        collapse,
        scale: collapse ? float((timeDot.attrs.scale as number[])[k]) : '',
        invTauS: constants.invTauS,
        decay: constants.decay,
        negThetaM: constants.negThetaM,
        oneMinusThetaM: constants.oneMinusThetaM,
        threshold: constants.threshold,
        minSensitivity: float(lifGrad.attrs.min_sensitivity as number),
        silentPsp: float(lifGrad.attrs.silent_psp as number),
        width: float(lifGrad.attrs.surrogate_width as number),
      };
    }),
    loss: null,
    direct: null,
    pool: null,
  };
  const stepFlags = Array.from({ length: T }, (_, k) => ({ k }));

  if (source.kind === 'loss') {
    const loss = source.loss;
    indexLines.push(...decomposeIndex('neuron', [{ name: 'c', size: loss.attrs.n_class as number }], 'n'));
    params.push({ name: 'pspOut', buffer: bufferOf(module, loss.operands[0]) }, { name: 'labels', buffer: bufferOf(module, loss.operands[1]) });
    const kind = loss.attrs.kind as string;
    baked.push(`loss ${kind}`);
    const lossValues: Record<string, unknown> = { kernel: null, count: null, softmax: null };
    if (kind === 'kernel') {
      const target = loss.attrs.target as number[];
      baked.push(`kernel-loss target [${target.map((value) => float(value)).join(', ')}]`);
      lossValues.kernel = target.map((value, k) => ({ k, target: float(value) }));
    } else if (kind === 'count') {
      const desired = loss.attrs.desired as number;
      const undesired = loss.attrs.undesired as number;
      baked.push(`desired count ${desired}`, `undesired count ${undesired}`);
      lossValues.count = { undesired: float(undesired), difference: float(desired - undesired), steps: float(T) };
    } else {
      params.push({ name: 'inverseBatch', scalar: 'inverseBatch' });
      lossValues.softmax = { classes: loss.attrs.n_class as number, sampleStride: (loss.attrs.n_class as number) * T };
    }
    values.loss = lossValues;
  } else if (source.pool === null) {
    params.push({ name: 'grad', buffer: bufferOf(module, source.source) }, ...source.masksBeforePool.map((mask) => ({ name: maskParam(mask), buffer: mask })));
    values.direct = { masks: source.masksBeforePool.map(maskParam), steps: stepFlags };
  } else {
    const geometry = source.pool.geometry;
    const pooledShape = tensorOf(module, source.pool.output).shape;
    indexLines.push(...decomposeIndex('neuron', [{ name: 'x', size: width }, { name: 'y', size: height }, { name: 'c', size: channels }], 'n'));
    params.push(
      { name: 'grad', buffer: bufferOf(module, source.source) },
      ...[...source.masksBeforePool, ...source.masksAfterPool].map((mask) => ({ name: maskParam(mask), buffer: mask })),
    );
    baked.push(`pooling ${geometry.kernel.join('x')} stride ${geometry.stride.join('x')} padding ${geometry.padding.join('x')} theta ${geometry.theta}`);
    values.pool = {
      theta: float(geometry.theta),
      kernelH: geometry.kernel[0],
      kernelW: geometry.kernel[1],
      strideY: geometry.stride[0],
      strideX: geometry.stride[1],
      padY: geometry.padding[0],
      padX: geometry.padding[1],
      strideCheckY: geometry.stride[0] > 1,
      strideCheckX: geometry.stride[1] > 1,
      rowExpression: divideExpression('rowOffset', geometry.stride[0]),
      columnExpression: divideExpression('columnOffset', geometry.stride[1]),
      outH: pooledShape[2],
      outW: pooledShape[3],
      // Windows that tile the plane exactly, without overlap or padding, contain each neuron once.
      tiled:
        geometry.stride[0] === geometry.kernel[0] &&
        geometry.stride[1] === geometry.kernel[1] &&
        geometry.padding[0] === 0 &&
        geometry.padding[1] === 0 &&
        height === (pooledShape[2] as number) * geometry.kernel[0] &&
        width === (pooledShape[3] as number) * geometry.kernel[1],
      masksBefore: source.masksBeforePool.map(maskParam),
      masksAfter: source.masksAfterPool.map(maskParam),
      steps: stepFlags,
    };
  }

  const output = (timeDot ?? lifGrad).results[0];
  return { group, template: 'lif-backward', params, output: outputTerms(module, output), header: header(module, group, baked, params), values };
}

function inputGrad(module: IrModule, group: KernelGroup): KernelContext {
  const op = findOp(module, group, ['conv_input_grad', 'linear_input_grad']);
  const gradShape = tensorOf(module, op.operands[0]).shape;
  const inShape = tensorOf(module, op.results[0]).shape;
  const T = module.network.nSteps;
  const [inChannels, inH, inW] = planeShape(inShape);
  const [outChannels, outH, storedW] = planeShape(gradShape);
  const gradColumns = op.attrs.grad_columns as [number, number] | undefined;
  // A column-padded gradient is stored wider than the conv's output.
  const outW = gradColumns === undefined ? storedW : storedW - gradColumns[0] - gradColumns[1];
  const params: KernelParam[] = [
    { name: 'grad', buffer: bufferOf(module, op.operands[0]) },
    { name: 'weights', buffer: bufferOf(module, op.operands[1]) },
  ];

  if (op.kind === 'linear_input_grad' && op.attrs.time_major === true) {
    // The result is time-major, [N, T, c, h, w].
    const nInputs = valuesPerStep(inShape);
    const groupSize = largestDivisorUpTo(outChannels, MAX_LINEAR_UNROLL);
    return {
      group,
      template: 'linear-input-grad-time-major',
      params,
      output: { ...outputTerms(module, op.results[0]), grid: [nInputs, T] },
      header: header(module, group, [`inputs ${nInputs}`, `outputs ${outChannels}`, `T ${T}`, 'result time-major'], params),
      values: {
        summary: `dE/dpsp[n, t, i] = sum_o W[o, i] * dE/dI[n, o, t] (time-major result); threads on a [${nInputs}, ${T}, rest] grid`,
        gradSample: outChannels * T,
        groupSize,
        groups: outChannels / groupSize,
        weightGroup: groupSize * nInputs,
        gradGroup: groupSize * T,
        groupOffsets: Array.from({ length: groupSize }, (_, k) => ({ weight: k * nInputs, grad: k * T })),
      },
    };
  }

  if (op.kind === 'linear_input_grad') {
    const nInputs = inChannels * inH * inW;
    return {
      group,
      template: 'linear-input-grad',
      params,
      output: outputTerms(module, op.results[0]),
      header: header(module, group, [`inputs ${nInputs}`, `outputs ${outChannels}`, `T ${T}`], params),
      values: {
        summary: 'dE/dpsp[n, i, t] = sum_o W[o, i] * dE/dI[n, o, t]',
        indexLines: decomposeIndex('this.thread.x', [{ name: 't', size: T }, { name: 'i', size: nInputs }], 'n'),
        nInputs,
        nOutputs: outChannels,
        steps: T,
        gradSample: outChannels * T,
      },
    };
  }

  const geometry = convGeometry(op);
  const channelUnroll = largestDivisorUpTo(outChannels, MAX_CHANNEL_UNROLL);
  const weightOut = inChannels * geometry.kernelH * geometry.kernelW;
  const gradPlane = outH * outW * T;
  const threads = threadLayout(
    module,
    op.results[0],
    [{ name: 't', size: T }, { name: 'ix', size: inW }],
    { name: 'iy', size: inH },
    [{ name: 'ci', size: inChannels }],
    'n',
  );
  if (gradColumns !== undefined) {
    const [left, right] = gradColumns;
    const paddedW = storedW;
    // With rows a multiple of 4 cells, the threads run on a [4, quads per row, rest] grid. The quad
    // (SIMD step) is then thread.y, the same for its 4 lanes, so a tap whose 4 cells all read zero
    // columns is skipped for the whole step. That skips 22 of conv_2's 75 column taps on MNIST.
    const rowCells = inW * T;
    const quadGrid = rowCells % SIMD_WIDTH === 0;
    const output: KernelOutput = quadGrid ? { ...outputTerms(module, op.results[0]), grid: [SIMD_WIDTH, rowCells / SIMD_WIDTH] } : threads.output;
    const indexLines = quadGrid
      ? ['const quad = this.thread.y;', ...decomposeIndex('this.thread.z', [{ name: 'iy', size: inH }, { name: 'ci', size: inChannels }], 'n')]
      : threads.indexLines;
    return {
      group,
      template: 'conv-input-grad-padded',
      params,
      output,
      header: header(
        module,
        group,
        [`in [${inChannels}, ${inH}, ${inW}]`, `out [${outChannels}, ${outH}, ${outW}]`, geometryConstants(geometry), `T ${T}`, `gradient columns padded by ${left} left and ${right} right`],
        params,
      ),
      values: {
        summary: `transposed conv: sums W[co, ci, ky, kx] * dE/dI[n, co, oy, ox, t] over every output position whose window reads this input; the gradient rows have ${left} zero columns on the left and ${right} on the right, so no tap tests its column${quadGrid ? `; threads on a [${SIMD_WIDTH}, ${rowCells / SIMD_WIDTH}, rest] grid` : ''}`,
        indexLines,
        quadGrid,
        quadWidth: SIMD_WIDTH,
        lastLane: SIMD_WIDTH - 1,
        gradientStartCells: left * T,
        gradientEndCells: (left + outW) * T,
        gradientLastCell: (left + outW) * T - 1,
        ...geometry,
        outChannels,
        outH,
        gradSample: outChannels * outH * paddedW * T,
        gradRowCells: paddedW * T,
        gradPlane: outH * paddedW * T,
        tapCells: geometry.dilationX * T,
        columnShift: geometry.padX + left,
        columnShiftCells: (geometry.padX + left) * T,
        weightOut,
        channelUnroll,
        channelGroups: outChannels / channelUnroll,
        gradGroup: channelUnroll * outH * paddedW * T,
        weightGroup: channelUnroll * weightOut,
        ...accumulatorValues(channelUnroll),
        channelOffsets: Array.from({ length: channelUnroll }, (_, k) => ({
          weight: k * weightOut,
          grad: k * outH * paddedW * T,
          accumulator: k % Math.min(MAX_ACCUMULATORS, channelUnroll),
        })),
        strideCheckY: geometry.strideY > 1,
        rowExpression: divideExpression('rowOffset', geometry.strideY),
      },
    };
  }
  return {
    group,
    template: 'conv-input-grad',
    params,
    output: threads.output,
    header: header(module, group, [`in [${inChannels}, ${inH}, ${inW}]`, `out [${outChannels}, ${outH}, ${outW}]`, geometryConstants(geometry), `T ${T}`], params),
    values: {
      summary: 'transposed conv: sums W[co, ci, ky, kx] * dE/dI[n, co, oy, ox, t] over every output position whose window reads this input',
      indexLines: threads.indexLines,
      ...geometry,
      inChannels,
      outChannels,
      outH,
      outW,
      steps: T,
      gradSample: outChannels * outH * outW * T,
      channelUnroll,
      channelOffsets: Array.from({ length: channelUnroll }, (_, k) => ({ weight: k * weightOut, grad: k * gradPlane })),
      weightStride: channelUnroll * weightOut,
      gradStride: channelUnroll * gradPlane,
      strideCheckY: geometry.strideY > 1,
      strideCheckX: geometry.strideX > 1,
      rowExpression: divideExpression('rowOffset', geometry.strideY),
      columnExpression: divideExpression('columnOffset', geometry.strideX),
    },
  };
}

function weightGrad(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const op = findOp(module, group, ['conv_weight_grad', 'linear_weight_grad']);
  const read = elementwiseRead(module, op.operands[1], materialised);
  const gradShape = tensorOf(module, op.operands[0]).shape;
  const sourceShape = tensorOf(module, read.source).shape;
  const timed = isTimed(module, gradShape);
  const T = module.network.nSteps;
  const [inChannels, inH, inW] = planeShape(sourceShape);
  const [outChannels, outH, outW] = planeShape(gradShape);
  const params: KernelParam[] = [
    { name: 'grad', buffer: bufferOf(module, op.operands[0]) },
    { name: 'source', buffer: bufferOf(module, read.source) },
    ...maskParams(read),
  ];

  if (op.kind === 'linear_weight_grad' && op.attrs.time_major === true) {
    const nInputs = valuesPerStep(sourceShape);
    const threads = threadLayout(module, op.results[0], [{ name: 'i', size: nInputs }], { name: 'o', size: outChannels }, [], null);
    return {
      group,
      template: 'linear-weight-grad-time-major',
      params,
      output: threads.output,
      header: header(module, group, [`inputs ${nInputs}`, `outputs ${outChannels}`, `T ${T}`, 'input time-major', 'batch from this.constants.batch'], params),
      values: {
        summary: 'dE/dW[o, i] = sum over n, t of dE/dI[n, o, t] * psp[n, t, i] (time-major input)',
        indexLines: threads.indexLines,
        nOutputs: outChannels,
        steps: T,
        sourceSample: T * nInputs,
        stepReads: Array.from({ length: T }, (_, t) => ({ t, offset: t * nInputs })),
      },
    };
  }

  if (op.kind === 'linear_weight_grad') {
    const nInputs = inChannels * inH * inW;
    const threads = threadLayout(module, op.results[0], [{ name: 'i', size: nInputs }], { name: 'o', size: outChannels }, [], null);
    return {
      group,
      template: 'linear-weight-grad',
      params,
      output: threads.output,
      header: header(module, group, [`inputs ${nInputs}`, `outputs ${outChannels}`, timed ? `T ${T}` : 'static (no time axis)', 'batch from this.constants.batch'], params),
      values: {
        summary: `dE/dW[o, i] = sum over n${timed ? ', t' : ''} of dE/dI[n, o${timed ? ', t' : ''}] * psp[n, i${timed ? ', t' : ''}]`,
        indexLines: threads.indexLines,
        timed,
        stepOffsets: Array.from({ length: T }, (_, t) => t),
        steps: T,
        nInputs,
        nOutputs: outChannels,
        masks: read.masks.map(maskParam),
      },
    };
  }

  const geometry = convGeometry(op);
  const lanes = op.attrs.lanes as number | undefined;
  if (lanes !== undefined) {
    const cellsPerColumn = timed ? T : 1;
    const threads = `${lanes}, ${geometry.kernelH * geometry.kernelW}, ${outChannels * inChannels}`;
    const cellOffsets = Array.from({ length: (outW * cellsPerColumn) / lanes }, (_, q) => q * lanes);
    const sums = accumulatorValues(cellOffsets.length, MAX_VECTOR_ACCUMULATORS);
    const cellTerms = { ...sums, cells: spreadTerms(cellOffsets, sums.accumulatorCount) };
    return {
      group,
      template: 'conv-weight-grad-lanes',
      params,
      output: { ...outputTerms(module, op.results[0]), grid: [lanes, geometry.kernelH * geometry.kernelW] },
      header: header(
        module,
        group,
        [`in [${inChannels}, ${inH}, ${inW}]`, `out [${outChannels}, ${outH}, ${outW}]`, geometryConstants(geometry), timed ? `T ${T}` : 'static (no time axis)', `${lanes} lanes`, 'batch from this.constants.batch'],
        params,
      ),
      values: {
        summary: `dE/dW[co, ci, ky, kx, lane] = sum over n, oy and the ${timed ? '[ox, t] ' : 'column '}cells c with c % ${lanes} == lane of dE/dI[n, co, oy, c] * psp[n, ci, oy*${geometry.strideY} - ${geometry.padY} + ky*${geometry.dilationY}, c + kx*${geometry.dilationX * cellsPerColumn}]; threads on a [${threads}] grid`,
        indexLines: [
          ...decomposeIndex('this.thread.y', [{ name: 'kx', size: geometry.kernelW }], 'ky').map((line) => line.replace(/\brest(\d)/g, 'restY$1')),
          ...decomposeIndex('this.thread.z', [{ name: 'ci', size: inChannels }], 'co').map((line) => line.replace(/\brest(\d)/g, 'restZ$1')),
        ],
        ...geometry,
        inChannels,
        outChannels,
        inH,
        outH,
        gradRowCells: outW * cellsPerColumn,
        sourceRowCells: inW * cellsPerColumn,
        tapCells: geometry.dilationX * cellsPerColumn,
        ...cellTerms,
        checkRows: geometry.padY > 0,
      },
    };
  }
  return {
    group,
    template: 'conv-weight-grad',
    params,
    output: outputTerms(module, op.results[0]),
    header: header(
      module,
      group,
      [`in [${inChannels}, ${inH}, ${inW}]`, `out [${outChannels}, ${outH}, ${outW}]`, geometryConstants(geometry), timed ? `T ${T}` : 'static (no time axis)', 'batch from this.constants.batch'],
      params,
    ),
    values: {
      summary: `dE/dW[co, ci, ky, kx] = sum over n, oy, ox${timed ? ', t' : ''} of dE/dI[n, co, oy, ox${timed ? ', t' : ''}] * psp[n, ci, iy, ix${timed ? ', t' : ''}]`,
      indexLines: decomposeIndex('this.thread.x', [{ name: 'kx', size: geometry.kernelW }, { name: 'ky', size: geometry.kernelH }, { name: 'ci', size: inChannels }], 'co'),
      stepOffsets: Array.from({ length: T }, (_, t) => t),
      timed,
      steps: T,
      ...geometry,
      inChannels,
      outChannels,
      inH,
      inW,
      outH,
      outW,
      checkRows: geometry.padY > 0,
      checkColumns: geometry.padX > 0,
      hasMasks: read.masks.length > 0,
      masks: read.masks.map(maskParam),
    },
  };
}

function laneSum(module: IrModule, group: KernelGroup): KernelContext {
  const op = findOp(module, group, ['lane_sum']);
  const lanes = op.attrs.lanes as number;
  const params: KernelParam[] = [{ name: 'source', buffer: bufferOf(module, op.operands[0]) }];
  return {
    group,
    template: 'lane-sum',
    params,
    output: outputTerms(module, op.results[0]),
    header: header(module, group, [`${lanes} lanes`], params),
    values: {
      summary: `out[v] = sum over the ${lanes} lanes of the partial sums of value v`,
      lanes,
      laneOffsets: Array.from({ length: lanes }, (_, lane) => lane),
    },
  };
}

function timeTranspose(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const op = findOp(module, group, ['time_major', 'time_minor']);
  const T = module.network.nSteps;
  const read = elementwiseRead(module, op.operands[0], materialised);
  const toMajor = op.kind === 'time_major';
  const resultShape = tensorOf(module, op.results[0]).shape;
  const nInputs = toMajor ? valuesPerStep(resultShape) : (resultShape[1] as number) * (resultShape[2] as number) * (resultShape[3] as number);
  const params: KernelParam[] = [{ name: 'source', buffer: bufferOf(module, read.source) }, ...maskParams(read)];
  const axes: IndexAxis[] = toMajor ? [{ name: 'i', size: nInputs }, { name: 't', size: T }] : [{ name: 't', size: T }, { name: 'i', size: nInputs }];
  return {
    group,
    template: 'time-transpose',
    params,
    output: outputTerms(module, op.results[0]),
    header: header(module, group, [`values per step ${nInputs}`, `T ${T}`], params),
    values: {
      summary: toMajor ? 'out[n, t, i] = in[n, i, t]' : 'out[n, i, t] = in[n, t, i]',
      indexLines: decomposeIndex('this.thread.x', axes, 'n'),
      readIndex: toMajor ? `(n * ${nInputs} + i) * ${T} + t` : `(n * ${T} + t) * ${nInputs} + i`,
      nInputs,
      masks: read.masks.map(maskParam),
    },
  };
}

function padColumns(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const op = findOp(module, group, ['pad_columns']);
  const read = elementwiseRead(module, op.operands[0], materialised);

  const sourceShape = tensorOf(module, read.source).shape;
  const paddedShape = tensorOf(module, op.results[0]).shape;
  const timed = isTimed(module, sourceShape);
  const T = module.network.nSteps;
  const [channels, height, width] = planeShape(sourceShape);
  const paddedW = paddedShape[3] as number;
  const left = op.attrs.left as number;

  const params: KernelParam[] = [{ name: 'source', buffer: bufferOf(module, read.source) }, ...maskParams(read)];
  const columnAxes: IndexAxis[] = timed ? [{ name: 't', size: T }, { name: 'px', size: paddedW }] : [{ name: 'px', size: paddedW }];
  const threads = threadLayout(module, op.results[0], columnAxes, { name: 'y', size: height }, [{ name: 'c', size: channels }], 'n');
  // Where the padding ends on whole SIMD steps (quads of 4 cells), the threads run on a
  // [4, quads per padded row, rows] grid. A quad is then either all padding or all copied, the
  // same for its 4 lanes, and the copy is one vector load.
  const cellsPerColumn = timed ? T : 1;
  const aligned = [paddedW, left, left + width].every((columns) => (columns * cellsPerColumn) % SIMD_WIDTH === 0);
  const quadGrid = aligned && read.masks.length === 0;
  const output: KernelOutput = quadGrid ? { ...outputTerms(module, op.results[0]), grid: [SIMD_WIDTH, (paddedW * cellsPerColumn) / SIMD_WIDTH] } : threads.output;

  return {
    group,
    template: 'pad-columns',
    params,
    output,
    header: header(module, group, [`[${channels}, ${height}, ${width}] to width ${paddedW}`, `${left} zero columns left, ${op.attrs.right as number} right`, timed ? `T ${T}` : 'static'], params),
    values: {
      summary: `padded[n, c, y, px${timed ? ', t' : ''}] = in[n, c, y, px - ${left}${timed ? ', t' : ''}]${read.masks.length > 0 ? ' * mask[n, c, y, px - ' + left + ']' : ''} inside the row, else 0`,
      indexLines: threads.indexLines,
      timed,
      steps: T,
      channels,
      height,
      width,
      left,
      leftEnd: left + width,
      masks: read.masks.map(maskParam),
      quadGrid,
      quadWidth: SIMD_WIDTH,
      rowCells: width * cellsPerColumn,
      firstQuad: (left * cellsPerColumn) / SIMD_WIDTH,
      endQuad: ((left + width) * cellsPerColumn) / SIMD_WIDTH,
    },
  };
}

function poolForward(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const op = findOp(module, group, ['sum_pool']);
  const read = elementwiseRead(module, op.operands[0], materialised);
  const outShape = tensorOf(module, op.results[0]).shape;
  const inShape = tensorOf(module, read.source).shape;
  const timed = isTimed(module, outShape);
  const geometry = poolGeometry(op);
  const [channels, inH, inW] = planeShape(inShape);
  const params: KernelParam[] = [{ name: 'source', buffer: bufferOf(module, read.source) }, ...maskParams(read)];
  return {
    group,
    template: 'pool-forward',
    params,
    output: outputTerms(module, op.results[0]),
    header: header(
      module,
      group,
      [`in [${channels}, ${inH}, ${inW}]`, `pooling ${geometry.kernel.join('x')} stride ${geometry.stride.join('x')} padding ${geometry.padding.join('x')} theta ${geometry.theta}`, timed ? `T ${module.network.nSteps}` : 'static'],
      params,
    ),
    values: {
      summary: 'sum pooling: theta times the sum of the window, per channel (and step); padding reads zero',
      indexLines: decomposeIndex('this.thread.x', activationAxes(outShape, timed, ['c', 'py', 'px']), 'n'),
      timed,
      steps: module.network.nSteps,
      channels,
      inH,
      inW,
      kernelH: geometry.kernel[0],
      kernelW: geometry.kernel[1],
      strideY: geometry.stride[0],
      strideX: geometry.stride[1],
      padY: geometry.padding[0],
      padX: geometry.padding[1],
      theta: float(geometry.theta),
      checkRows: true,
      checkColumns: true,
      masks: read.masks.map(maskParam),
    },
  };
}

function poolBackward(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const op = findOp(module, group, ['sum_pool_grad']);
  const read = elementwiseRead(module, op.operands[0], materialised);
  const inShape = tensorOf(module, op.results[0]).shape;
  const outShape = tensorOf(module, op.operands[0]).shape;
  const geometry = poolGeometry(op);
  const [channels] = planeShape(inShape);
  const params: KernelParam[] = [{ name: 'grad', buffer: bufferOf(module, read.source) }, ...maskParams(read)];
  return {
    group,
    template: 'pool-backward',
    params,
    output: outputTerms(module, op.results[0]),
    header: header(module, group, [`pooling ${geometry.kernel.join('x')} stride ${geometry.stride.join('x')} padding ${geometry.padding.join('x')} theta ${geometry.theta}`, `T ${module.network.nSteps}`], params),
    values: {
      summary: 'pooling backward: theta times the gradients of every window that contains this input',
      indexLines: decomposeIndex('this.thread.x', activationAxes(inShape, true, ['c', 'iy', 'ix']), 'n'),
      steps: module.network.nSteps,
      channels,
      outH: outShape[2],
      outW: outShape[3],
      kernelH: geometry.kernel[0],
      kernelW: geometry.kernel[1],
      strideY: geometry.stride[0],
      strideX: geometry.stride[1],
      padY: geometry.padding[0],
      padX: geometry.padding[1],
      strideCheckY: geometry.stride[0] > 1,
      strideCheckX: geometry.stride[1] > 1,
      rowExpression: divideExpression('rowOffset', geometry.stride[0]),
      columnExpression: divideExpression('columnOffset', geometry.stride[1]),
      theta: float(geometry.theta),
      masks: read.masks.map(maskParam),
    },
  };
}

function pspView(module: IrModule, group: KernelGroup, materialised: Set<string>): KernelContext {
  const primary = group.ops.length > 0 ? module.ops[group.ops[0]] : undefined;
  const read = elementwiseRead(module, primary !== undefined ? primary.operands[0] : group.output, materialised);
  if (primary !== undefined && primary.kind === 'scale_time') read.scale = primary.attrs.scale as number[];
  const T = module.network.nSteps;
  const params: KernelParam[] = [{ name: 'source', buffer: bufferOf(module, read.source) }, ...maskParams(read)];
  const constants = [`T ${T}`];
  if (read.scale !== null) constants.push(`static input scale per step [${read.scale.map((value) => float(value)).join(', ')}]`);
  return {
    group,
    template: 'psp-view',
    params,
    output: outputTerms(module, group.output),
    header: header(module, group, constants, params),
    values: {
      summary: read.scale !== null ? 'per-step PSP of a static tensor: value times the step scale' : 'masked PSP: value times its dropout masks',
      indexLines: decomposeIndex('this.thread.x', [{ name: 't', size: T }], 'neuron'),
      steps: T,
      scale: read.scale?.map((value, k) => ({ k, value: float(value) })) ?? null,
      masks: read.masks.map(maskParam),
    },
  };
}

function encodeEvents(module: IrModule, group: KernelGroup): KernelContext {
  const op = findOp(module, group, ['encode_events']);
  const T = module.network.nSteps;
  const tauS = module.network.tauS;
  const params: KernelParam[] = [{ name: 'events', buffer: bufferOf(module, op.operands[0]) }];
  return {
    group,
    template: 'encode-events',
    params,
    output: outputTerms(module, op.results[0]),
    header: header(module, group, [`tau_s ${tauS}`, `T ${T}`], params),
    values: {
      summary: 'synaptic filter of the event input: a[t] = (1 - 1/tau_s) * a[t-1] + x[t], psp = a[t] / tau_s',
      indexLines: decomposeIndex('this.thread.x', [{ name: 't', size: T }], 'neuron'),
      steps: T,
      stepList: Array.from({ length: T }, (_, k) => ({ k })),
      decay: float(1 - 1 / tauS),
      tauS: float(tauS),
    },
  };
}

function sumSquares(module: IrModule, group: KernelGroup): KernelContext {
  const op = findOp(module, group, ['sum_squares']);
  const length = elementCount(tensorOf(module, op.operands[0]).shape, 1);
  const params: KernelParam[] = [{ name: 'grad', buffer: bufferOf(module, op.operands[0]) }];
  const partials = Math.ceil(length / SQUARES_CHUNK);
  return {
    group,
    template: 'sum-squares',
    params,
    output: { buffer: bufferOf(module, op.results[0]), perSample: 0, fixed: partials },
    header: header(module, group, [`gradient length ${length}`, `chunk ${SQUARES_CHUNK}`, `${partials} partial sums`], params),
    values: { summary: `sum of squares of gradient values [x*${SQUARES_CHUNK}, (x+1)*${SQUARES_CHUNK})`, chunk: SQUARES_CHUNK, length },
  };
}

function clipScale(module: IrModule, group: KernelGroup): KernelContext {
  const op = findOp(module, group, ['clip_scale']);
  const inputs = op.operands.map((operand, index) => {
    const buffer = module.buffers?.find((candidate) => candidate.name === bufferOf(module, operand));
    if (buffer === undefined) throw new Error(`codegen: no buffer is planned for ${operand}; run the plan-buffers pass first`);
    return { name: `squares${index}`, buffer: buffer.name, partials: buffer.fixed };
  });
  const params: KernelParam[] = inputs.map((input) => ({ name: input.name, buffer: input.buffer }));
  const maxNorm = op.attrs.max_norm as number;
  const eps = op.attrs.eps as number;
  return {
    group,
    template: 'clip-scale',
    params,
    output: { buffer: bufferOf(module, op.results[0]), perSample: 0, fixed: 1 },
    header: header(module, group, [`max norm ${maxNorm}`, `eps ${eps}`, `${inputs.length} gradients`], params),
    values: {
      summary: `scale = max_norm / (norm + eps) when the global gradient norm is above max_norm, else 1`,
      inputs,
      maxNorm: float(maxNorm),
      eps: float(eps),
    },
  };
}

function adamw(module: IrModule, group: KernelGroup): KernelContext {
  const op = findOp(module, group, ['adamw']);
  const length = elementCount(tensorOf(module, op.operands[0]).shape, 1);
  const attrs = op.attrs;
  const params: KernelParam[] = [
    { name: 'params', buffer: bufferOf(module, op.operands[0]) },
    { name: 'grad', buffer: bufferOf(module, op.operands[3]) },
    { name: 'scale', buffer: bufferOf(module, op.operands[4]) },
    { name: 'lr', scalar: 'lr' },
    { name: 'biasCorrection1', scalar: 'biasCorrection1' },
    { name: 'biasCorrection2', scalar: 'biasCorrection2' },
  ];
  const beta1 = attrs.beta1 as number;
  const beta2 = attrs.beta2 as number;
  return {
    group,
    template: 'adamw',
    params,
    output: { buffer: bufferOf(module, op.operands[0]), perSample: 0, fixed: 3 * length, grid: [length, 3] },
    header: header(
      module,
      group,
      [`weights ${length}`, `beta1 ${beta1}`, `beta2 ${beta2}`, `eps ${attrs.eps}`, `weight decay ${attrs.weight_decay}`, `clamp [-${attrs.clamp}, ${attrs.clamp}]`],
      params,
    ),
    values: {
      summary: `AdamW on the packed [weights, first moment, second moment] buffer; threads on a [${length}, 3] grid`,
      length: int(length),
      twiceLength: int(2 * length),
      beta1: float(beta1),
      beta2: float(beta2),
      oneMinusBeta1: float(1 - beta1),
      oneMinusBeta2: float(1 - beta2),
      eps: float(attrs.eps as number),
      weightDecay: float(attrs.weight_decay as number),
      clamp: float(attrs.clamp as number),
    },
  };
}

/** Builds the template context of every device kernel of a fused, planned module. */
export function kernelContexts(module: IrModule): KernelContext[] {
  if (module.kernels === null) throw new Error('codegen: run the fuse pass first');
  const materialised = materialisedTensors(module);
  const contexts: KernelContext[] = [];
  for (const group of module.kernels) {
    switch (group.kind) {
      case 'host':
        continue;
      case 'conv-forward':
      case 'linear-forward':
        contexts.push(synapseForward(module, group, materialised));
        break;
      case 'lif-forward':
        contexts.push(lifForward(module, group, materialised));
        break;
      case 'lif-backward':
        contexts.push(lifBackward(module, group, materialised));
        break;
      case 'conv-input-grad':
      case 'linear-input-grad':
        contexts.push(inputGrad(module, group));
        break;
      case 'conv-weight-grad':
      case 'linear-weight-grad':
        contexts.push(weightGrad(module, group, materialised));
        break;
      case 'time-transpose':
        contexts.push(timeTranspose(module, group, materialised));
        break;
      case 'pad-columns':
        contexts.push(padColumns(module, group, materialised));
        break;
      case 'lane-sum':
        contexts.push(laneSum(module, group));
        break;
      case 'pool-forward':
        contexts.push(poolForward(module, group, materialised));
        break;
      case 'pool-backward':
        contexts.push(poolBackward(module, group, materialised));
        break;
      case 'psp-view':
        contexts.push(pspView(module, group, materialised));
        break;
      case 'encode-events':
        contexts.push(encodeEvents(module, group));
        break;
      case 'sum-squares':
        contexts.push(sumSquares(module, group));
        break;
      case 'clip-scale':
        contexts.push(clipScale(module, group));
        break;
      case 'adamw':
        contexts.push(adamw(module, group));
        break;
    }
  }
  for (const context of contexts) describeGrid(context);
  return contexts;
}

/** Names the thread grid in the last header line of a kernel that runs on one. */
function describeGrid(context: KernelContext): void {
  const grid = context.output.grid;
  if (grid === undefined) return;
  const last = context.header.length - 1;
  context.header[last] = context.header[last].replace(
    'one value per thread.',
    `one value per thread on a [${grid[0]}, ${grid[1]}, rest] grid (thread.x, thread.y, thread.z).`,
  );
}
