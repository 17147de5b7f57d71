// Runtime, gpu.js engine: builds a generated model's kernels on one gpu.js backend and runs
// the manifest's schedule for forward, TSSL-BP backward and AdamW. No Node-only imports, so
// it also runs from a browser bundle.

import type { GPU } from 'gpu.js';
import { sampleSize, type Network } from '../../common/network';
import { NonFiniteError, type Batch, type Engine, type OptimizerState, type PassOptions, type PassResult, type StepResult, type TensorMap } from '../engine';
import { initialWeights } from '../init';
import { lossAndGradient } from '../loss';
import { ADAM_BETA1, ADAM_BETA2 } from '../optimizer';
import { Rng } from '../rng';
import type { KernelOutput, Manifest, ManifestKernel, ScalarName } from './manifest';
import { setIntegerLocals } from './webasm-integers';
import { returnFlatResults } from './webasm-flat-results';
import { setVectorLoads } from './webasm-vector-loads';

/** The exports of a generated `kernels.js`: kernel functions by name. */
export type GeneratedKernels = Record<string, unknown>;

export interface CreateEngineOptions {
  gpu: GPU;
  backend: string;
  /** Largest batch the engine runs; smaller batches are padded. */
  batchSize: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Run each pass as one gpu.js pipeline instead of kernel by kernel (default: on webasm only). */
  pipelines?: boolean;
  /**
   * On webasm, keep integer kernel locals as i32 (default true). False leaves gpu.js's f32 index
   * arithmetic, for comparisons, and applies to every webasm kernel built afterwards.
   */
  integerIndices?: boolean;
  /**
   * On webasm, read 4 consecutive elements with one vector load where the 4 SIMD lanes of a read
   * index consecutive elements (default true). False leaves gpu.js's 4 scalar loads, for
   * comparisons, and applies to every webasm kernel built afterwards.
   */
  vectorLoads?: boolean;
  /**
   * Run kernel by kernel and time each call, for `lastStepProfile()`. Pipelines are off while
   * profiling because a fused pass hides its kernels, so a profiled step is slower than a plain one.
   */
  profile?: boolean;
  /** Receives one-line notices, such as a switch from pipelines to kernel-by-kernel runs. */
  log?: (line: string) => void;
}

/** Wall-clock time of one kernel over the most recent pass, summed over its calls. */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

/** An engine opened with `profile: true`. */
export interface ProfilingEngine extends Engine {
  /** Per-kernel times of the most recent `trainStep`, `forwardBackward` or `forward`, in schedule order. */
  lastStepProfile(): KernelTime[];
}

/** A compiled pipeline over a list of kernels, with the buffers and scalars it takes as arguments. */
interface ExecutionPlan {
  inputs: { buffer?: string; scalar?: ScalarName }[];
  run: (...args: unknown[]) => Promise<Record<string, DeviceValue>>;
}

/** Content of a buffer between kernels: a host array, or a device texture or buffer handle. */
type DeviceValue = Float32Array | { toArray(): unknown; delete?(): void };
type RunnableKernel = ((...args: unknown[]) => unknown) & { destroy?(): void };

// NOTE: on these backends buffers stay on the device as textures or storage buffers. The
// reference vectors pass on webgl2 and webgpu in Chromium (test/browser), but trainStep there is untested.
const DEVICE_BACKENDS = new Set(['webgl2', 'headlessgl', 'webgpu', 'webgl', 'gpu']);

/** Largest total buffer size run as one fused webasm pipeline; wasm32 memories stop at 4 GiB. */
const MAX_PIPELINE_BYTES = 1 << 30;

/** Builds an engine for `manifest` from the functions of its `kernels.js`. */
export async function createEngine(manifest: Manifest, kernels: GeneratedKernels, options: CreateEngineOptions & { profile: true }): Promise<ProfilingEngine>;
export async function createEngine(manifest: Manifest, kernels: GeneratedKernels, options: CreateEngineOptions): Promise<Engine>;
export async function createEngine(manifest: Manifest, kernels: GeneratedKernels, options: CreateEngineOptions): Promise<Engine> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new Error(`batch size ${options.batchSize} is invalid; use a positive integer`);
  }
  if (options.backend === 'webasm') {
    for (const notice of [setIntegerLocals(options.integerIndices ?? true), setVectorLoads(options.vectorLoads ?? true)]) {
      if (notice !== null) options.log?.(notice);
    }
  }
  return new GpuEngine(manifest, kernels, options);
}

function kernelFunction(kernel: ManifestKernel, kernels: GeneratedKernels): unknown {
  const exported = kernels[kernel.name];
  if (typeof exported === 'function') return exported;
  return new Function(`return ${kernel.source}`)();
}

function isHostArray(value: DeviceValue): value is Float32Array {
  return value instanceof Float32Array;
}

/**
 * Flattens the nested rows that a kernel on a thread grid returns on the host backends into
 * one array, x fastest. Other values pass through unchanged.
 */
export function flattenRows(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const rows: ArrayLike<number>[] = [];
  const collect = (item: unknown): void => {
    if (Array.isArray(item)) item.forEach(collect);
    else rows.push(item as ArrayLike<number>);
  };
  collect(value);
  const flat = new Float32Array(rows.reduce((total, row) => total + row.length, 0));
  let offset = 0;
  for (const row of rows) {
    flat.set(row, offset);
    offset += row.length;
  }
  return flat;
}

class GpuEngine implements ProfilingEngine {
  readonly network: Network;
  readonly backend: string;

  private readonly built = new Map<string, RunnableKernel>();
  private readonly buffers = new Map<string, DeviceValue>();
  private readonly kernelByName = new Map<string, ManifestKernel>();
  private readonly scalars: Record<ScalarName, number> = { lr: 0, biasCorrection1: 1, biasCorrection2: 1, inverseBatch: 1 };
  private readonly ones = new Map<string, Float32Array>();
  private step = 0;
  private readonly onDevice: boolean;
  /** Compiled gpu.js pipelines by kernel list; used where `usePipelines` is set. */
  private readonly plans = new Map<string, ExecutionPlan>();
  private usePipelines: boolean;
  /** Host copies of parameter buffers on backends whose reads are asynchronous (webgpu). */
  private readonly hostParameters = new Map<string, Float32Array>();
  /** Kernel times of the current pass when profiling, in first-call order. */
  private readonly kernelTimes = new Map<string, KernelTime>();

  constructor(
    private readonly manifest: Manifest,
    kernels: GeneratedKernels,
    private readonly options: CreateEngineOptions,
  ) {
    this.network = manifest.network;
    this.backend = options.backend;
    this.onDevice = DEVICE_BACKENDS.has(options.backend);
    // NOTE: only webasm runs whole passes as gpu.js pipelines, one fused and threaded plan per pass.
    // The other backends call kernel by kernel, because their pipeline executors are untested here.
    // A fused plan keeps every buffer in one wasm memory, so large models call kernel by kernel too.
    const planBytes = manifest.buffers.reduce((total, buffer) => total + 4 * (buffer.perSample * options.batchSize + buffer.fixed), 0);
    this.usePipelines = options.profile !== true && (options.pipelines ?? (options.backend === 'webasm' && planBytes <= MAX_PIPELINE_BYTES));

    for (const kernel of manifest.kernels) {
      this.kernelByName.set(kernel.name, kernel);
      this.built.set(kernel.name, this.buildKernel(kernel, kernels));
    }
    this.setWeights(initialWeights(this.network, new Rng(options.seed ?? 0)));
  }

  private buildKernel(kernel: ManifestKernel, kernels: GeneratedKernels): RunnableKernel {
    const argumentTypes: Record<string, string> = {};
    for (const arg of kernel.args) argumentTypes[arg.name] = arg.scalar !== undefined ? 'Float' : 'Array';
    const settings = {
      output: this.outputShape(kernel.output),
      constants: { batch: this.options.batchSize },
      argumentTypes,
      asyncMode: true,
      pipeline: this.onDevice,
      immutable: this.onDevice,
      precision: 'single',
      tactic: 'precision',
      loopMaxIterations: 1 << 20,
    };
    const create = this.options.gpu.createKernel as unknown as (fn: unknown, settings: unknown) => RunnableKernel;
    const built = create.call(this.options.gpu, kernelFunction(kernel, kernels), settings);
    // Rows of 4 cells would cost more to build and join than the kernel takes to run.
    if (this.backend === 'webasm') returnFlatResults(built);
    return built;
  }

  private outputSize(output: KernelOutput): number {
    return Math.max(1, output.perSample * this.options.batchSize + output.fixed);
  }

  /** gpu.js output dimensions: `[size]`, or `[x, y, z]` for a kernel on a thread grid. */
  private outputShape(output: KernelOutput): number[] {
    const size = this.outputSize(output);
    if (output.grid === undefined) return [size];
    const [x, y] = output.grid;
    if (size % (x * y) !== 0) throw new Error(`engine: output ${output.buffer} of ${size} values does not fill a [${x}, ${y}, z] thread grid; run snnc compile SPEC to regenerate the model`);
    return [x, y, size / (x * y)];
  }

  private parameterLayers() {
    return this.manifest.parameters;
  }

  // ---- buffers

  private async read(name: string): Promise<Float32Array> {
    const value = this.buffers.get(name);
    if (value === undefined) throw new Error(`engine: buffer ${name} has not been written yet`);
    if (isHostArray(value)) return value;
    const array = flattenRows(await value.toArray());
    return array instanceof Float32Array ? array : Float32Array.from(array as ArrayLike<number>);
  }

  private store(name: string, value: DeviceValue): void {
    const previous = this.buffers.get(name);
    if (previous !== undefined && previous !== value && !isHostArray(previous)) previous.delete?.();
    this.buffers.set(name, value);
  }

  private onesFor(mask: string, size: number): Float32Array {
    let ones = this.ones.get(mask);
    if (ones === undefined || ones.length !== size) {
      ones = new Float32Array(size).fill(1);
      this.ones.set(mask, ones);
    }
    return ones;
  }

  private checkBatch(batch: Batch): void {
    const capacity = this.options.batchSize;
    if (!Number.isInteger(batch.size) || batch.size < 1 || batch.size > capacity) {
      throw new Error(`batch of ${batch.size} samples does not fit this engine's batch size ${capacity}; open the engine with a larger batchSize`);
    }
    const perSample = sampleSize(this.network.inputShape) * (this.network.inputEncoding === 'events' ? this.network.nSteps : 1);
    if (batch.input.length < batch.size * perSample) {
      throw new Error(`batch input has ${batch.input.length} values but ${batch.size} samples need ${batch.size * perSample}`);
    }
    if (batch.labels.length < batch.size) throw new Error(`batch has ${batch.labels.length} labels for ${batch.size} samples`);
  }

  /** Uploads the input, labels (-1 marks padding) and dropout masks, padded to the engine's batch size. */
  private feed(batch: Batch, masks: TensorMap | undefined): void {
    this.checkBatch(batch);
    this.kernelTimes.clear();
    const capacity = this.options.batchSize;
    const perSample = sampleSize(this.network.inputShape) * (this.network.inputEncoding === 'events' ? this.network.nSteps : 1);
    const input = new Float32Array(capacity * perSample);
    input.set(batch.input.subarray(0, batch.size * perSample));
    this.store(this.manifest.feeds.input, input);

    const labels = new Float32Array(capacity).fill(-1);
    for (let n = 0; n < batch.size; n++) labels[n] = batch.labels[n];
    this.store(this.manifest.feeds.labels, labels);

    for (const [layer, buffer] of Object.entries(this.manifest.feeds.masks)) {
      const dropout = this.network.layers.find((candidate) => candidate.name === layer);
      const neurons = dropout === undefined ? 0 : sampleSize(dropout.inShape);
      const mask = masks?.[layer];
      if (mask === undefined) {
        this.store(buffer, this.onesFor(buffer, capacity * neurons));
        continue;
      }
      if (mask.length < batch.size * neurons) {
        throw new Error(`dropout mask for layer '${layer}' has ${mask.length} values but ${batch.size} samples need ${batch.size * neurons}`);
      }
      const padded = new Float32Array(capacity * neurons);
      padded.set(mask.subarray(0, Math.min(mask.length, capacity * neurons)));
      this.store(buffer, padded);
    }
    this.scalars.inverseBatch = 1 / batch.size;
  }

  // ---- running the schedule

  private async runKernel(name: string): Promise<void> {
    const kernel = this.kernelByName.get(name);
    const built = this.built.get(name);
    if (kernel === undefined || built === undefined) throw new Error(`engine: the manifest schedules unknown kernel '${name}'`);
    const args = kernel.args.map((arg) => {
      if (arg.scalar !== undefined) return this.scalars[arg.scalar];
      const value = this.buffers.get(arg.buffer as string);
      if (value === undefined) throw new Error(`engine: kernel ${name} reads buffer ${arg.buffer} before any kernel wrote it`);
      return value;
    });
    const start = performance.now();
    const result = flattenRows(await built(...args)) as DeviceValue;
    if (this.options.profile === true) this.recordTime(name, performance.now() - start);
    this.store(kernel.output.buffer, result);
  }

  // NOTE: on webgl2, headlessgl and webgpu a kernel call may return before the device finishes,
  // so these times are exact only on the synchronous cpu and webasm backends.
  private recordTime(name: string, ms: number): void {
    const entry = this.kernelTimes.get(name);
    if (entry === undefined) this.kernelTimes.set(name, { kernel: name, ms, calls: 1 });
    else {
      entry.ms += ms;
      entry.calls += 1;
    }
  }

  lastStepProfile(): KernelTime[] {
    if (this.options.profile !== true) throw new Error('engine: lastStepProfile() needs an engine opened with profile: true');
    return [...this.kernelTimes.values()].map((entry) => ({ ...entry }));
  }

  /** Runs the device kernels of `names` (host steps are skipped) and stores the buffers in `outputs`. */
  private async execute(names: string[], outputs: string[]): Promise<void> {
    const kernels = names.filter((name) => !name.startsWith('host:'));
    const results = this.usePipelines ? await this.runPipeline(kernels, outputs) : null;
    if (results === null) {
      for (const name of kernels) await this.runKernel(name);
      return;
    }
    for (const name of outputs) this.store(name, results.get(name) as DeviceValue);
  }

  /**
   * Runs `kernels` as one gpu.js pipeline and returns the buffers in `outputs` without storing
   * them, or null once pipelines are off because this one stalled.
   */
  private async runPipeline(kernels: string[], outputs: string[]): Promise<Map<string, DeviceValue> | null> {
    const plan = this.plan(kernels, outputs);
    const args = plan.inputs.map((input) => (input.scalar !== undefined ? this.scalars[input.scalar] : this.buffers.get(input.buffer as string)));
    let result: Record<string, unknown>;
    try {
      result = await plan.run(...args);
    } catch (error) {
      // gpu.js gives up on a threaded pipeline when one kernel runs longer than its fixed
      // 60 s barrier timeout (a CIFAR-10 conv on a CPU can). A pass writes nothing of ours
      // before it returns, so it is safe to run the same kernels again one call at a time.
      if (!/barrier stalled/.test((error as Error).message)) throw error;
      this.options.log?.(`engine: ${(error as Error).message}; running kernel by kernel from now on`);
      this.usePipelines = false;
      return null;
    }
    return new Map(outputs.map((name) => [name, flattenRows(result[name]) as DeviceValue]));
  }

  /** Builds (once per kernel list) a gpu.js pipeline that runs `kernels` in order and returns `outputs`. */
  private plan(kernels: string[], outputs: string[]): ExecutionPlan {
    const key = `${kernels.join(',')}|${outputs.join(',')}`;
    const cached = this.plans.get(key);
    if (cached !== undefined) return cached;

    // Arguments: every buffer read before a kernel of the list writes it, and every host scalar.
    const inputs: ExecutionPlan['inputs'] = [];
    const written = new Set<string>();
    for (const name of kernels) {
      const kernel = this.kernelByName.get(name) as ManifestKernel;
      for (const arg of kernel.args) {
        if (arg.scalar !== undefined) {
          if (!inputs.some((input) => input.scalar === arg.scalar)) inputs.push({ scalar: arg.scalar });
        } else if (!written.has(arg.buffer as string) && !inputs.some((input) => input.buffer === arg.buffer)) {
          inputs.push({ buffer: arg.buffer });
        }
      }
      written.add(kernel.output.buffer);
    }

    const orchestrate = (args: ArrayLike<unknown>) => {
      const values = new Map<string, unknown>();
      inputs.forEach((input, index) => values.set(input.buffer ?? `scalar:${input.scalar}`, args[index]));
      for (const name of kernels) {
        const kernel = this.kernelByName.get(name) as ManifestKernel;
        const kernelArgs = kernel.args.map((arg) => values.get(arg.buffer ?? `scalar:${arg.scalar}`));
        values.set(kernel.output.buffer, (this.built.get(name) as RunnableKernel)(...kernelArgs));
      }
      return Object.fromEntries(outputs.map((name) => [name, values.get(name)]));
    };
    // gpu.js counts a pipeline's arguments by the function's declared parameters.
    const parameters = inputs.map((_, index) => `input${index}`).join(', ');
    const traced = new Function('orchestrate', `return function (${parameters}) { return orchestrate(arguments); };`)(orchestrate);
    const create = this.options.gpu.createPipeline as unknown as (fn: unknown) => ExecutionPlan['run'];
    const plan: ExecutionPlan = { inputs, run: create.call(this.options.gpu, traced) };
    this.plans.set(key, plan);
    return plan;
  }

  private async outputPsp(size: number): Promise<Float32Array> {
    const all = await this.read(this.manifest.outputs.outputPsp);
    return all.slice(0, size * this.network.nClass * this.network.nSteps);
  }

  /** Runs forward, backward and then `after` (kernel names) as one pass; returns the loss and output PSPs. */
  private async forwardAndBackward(
    batch: Batch,
    options: PassOptions | undefined,
    after: string[],
    outputs: string[],
  ): Promise<{ loss: number; outputPsp: Float32Array }> {
    this.feed(batch, options?.dropoutMasks);
    const { forward, backward } = this.manifest.schedule;
    await this.execute([...forward, ...backward, ...after], [this.manifest.outputs.outputPsp, ...outputs]);
    return this.loss(batch);
  }

  /** Computes the loss from the stored output PSPs. Throws `NonFiniteError` for a NaN or infinite loss. */
  private async loss(batch: Batch): Promise<{ loss: number; outputPsp: Float32Array }> {
    // The loss gradient is computed inside the last neuron backward, so the host loss can come last.
    const outputPsp = await this.outputPsp(batch.size);
    const loss = lossAndGradient(this.network, outputPsp, batch.labels, batch.size).loss;
    if (!Number.isFinite(loss)) throw new NonFiniteError('loss', loss);
    return { loss, outputPsp };
  }

  private async readActivations(size: number): Promise<TensorMap> {
    const activations: TensorMap = {};
    for (const activation of this.manifest.activations) {
      for (const kernel of activation.kernels) await this.runKernel(kernel);
      const shape = this.manifest.buffers.find((buffer) => buffer.name === activation.buffer);
      const values = await this.read(activation.buffer);
      activations[activation.name] = values.slice(0, size * (shape?.perSample ?? values.length / this.options.batchSize));
    }
    return activations;
  }

  async forwardBackward(batch: Batch, options?: PassOptions): Promise<PassResult> {
    const grads = Object.values(this.manifest.outputs.weightGrads);
    // Activations need the intermediate buffers, which a pipeline keeps to itself.
    const saved = this.usePipelines;
    if (options?.keepActivations) this.usePipelines = false;
    let pass: { loss: number; outputPsp: Float32Array };
    try {
      pass = await this.forwardAndBackward(batch, options, [], grads);
    } finally {
      this.usePipelines = saved;
    }
    const { loss, outputPsp } = pass;
    const weightGrads: TensorMap = {};
    for (const [layer, buffer] of Object.entries(this.manifest.outputs.weightGrads)) {
      const values = (await this.read(buffer)).slice();
      for (const value of values) if (!Number.isFinite(value)) throw new NonFiniteError(layer, value);
      weightGrads[layer] = values;
    }
    const result: PassResult = { loss, outputPsp, weightGrads };
    if (options?.keepActivations) result.activations = await this.readActivations(batch.size);
    return result;
  }

  async trainStep(batch: Batch, lr: number, options?: PassOptions): Promise<StepResult> {
    const { forward, backward, optimizer } = this.manifest.schedule;
    // The clipping scale is a device kernel, so the AdamW kernels that follow it need no host step.
    const firstUpdate = optimizer.findIndex((name) => this.kernelByName.get(name)?.kind === 'adamw');
    const squares = Object.values(this.manifest.outputs.gradSquares);
    const parameters = this.manifest.parameters.map((parameter) => parameter.buffer);
    const step = this.step + 1;
    this.scalars.lr = lr;
    this.scalars.biasCorrection1 = 1 - Math.pow(ADAM_BETA1, step);
    this.scalars.biasCorrection2 = 1 - Math.pow(ADAM_BETA2, step);

    if (this.usePipelines) {
      // One pipeline runs the whole step. The updated parameters are kept only after the host
      // has checked the loss and the gradient for NaN and infinity, so a bad step changes nothing.
      this.feed(batch, options?.dropoutMasks);
      const kernels = [...forward, ...backward, ...optimizer].filter((name) => !name.startsWith('host:'));
      const results = await this.runPipeline(kernels, [this.manifest.outputs.outputPsp, ...squares, ...parameters]);
      if (results !== null) {
        for (const name of [this.manifest.outputs.outputPsp, ...squares]) this.store(name, results.get(name) as DeviceValue);
        const { loss, outputPsp } = await this.loss(batch);
        const gradNorm = await this.globalGradNorm();
        for (const name of parameters) this.store(name, results.get(name) as DeviceValue);
        this.step = step;
        await this.refreshHostParameters();
        return { loss, outputPsp, gradNorm };
      }
    }

    // Kernel by kernel: the gradient is checked before any AdamW kernel runs.
    const { loss, outputPsp } = await this.forwardAndBackward(batch, options, optimizer.slice(0, firstUpdate), squares);
    const gradNorm = await this.globalGradNorm();
    await this.execute(optimizer.slice(firstUpdate), parameters);
    this.step = step;
    await this.refreshHostParameters();
    return { loss, outputPsp, gradNorm };
  }

  /** Adds the partial sums of squares; throws `NonFiniteError` naming the first layer with a NaN or infinity. */
  private async globalGradNorm(): Promise<number> {
    let squared = 0;
    for (const [layer, buffer] of Object.entries(this.manifest.outputs.gradSquares)) {
      let layerSum = 0;
      for (const partial of await this.read(buffer)) layerSum += partial;
      if (!Number.isFinite(layerSum)) throw new NonFiniteError(layer, layerSum);
      squared += layerSum;
    }
    return Math.sqrt(squared);
  }

  async forward(batch: Batch): Promise<Float32Array> {
    this.feed(batch, undefined);
    await this.execute(this.manifest.schedule.evaluate, [this.manifest.outputs.outputPsp]);
    return this.outputPsp(batch.size);
  }

  // ---- weights and optimiser state

  private async packed(layer: string): Promise<Float32Array> {
    const parameter = this.parameterLayers().find((candidate) => candidate.layer === layer);
    if (parameter === undefined) throw new Error(`engine: no trainable layer '${layer}'`);
    return this.read(parameter.buffer);
  }

  /** Keeps host copies of the parameters where device reads are asynchronous, so getWeights stays synchronous. */
  private async refreshHostParameters(): Promise<void> {
    if (this.backend !== 'webgpu') return;
    for (const parameter of this.parameterLayers()) this.hostParameters.set(parameter.buffer, (await this.read(parameter.buffer)).slice());
  }

  private packedSync(buffer: string): Float32Array | null {
    const value = this.buffers.get(buffer);
    if (value === undefined) return null;
    if (isHostArray(value)) return value;
    const cached = this.hostParameters.get(buffer);
    if (cached !== undefined) return cached;
    const array = flattenRows(value.toArray());
    if (array instanceof Promise) throw new Error(`engine: reading weights from the ${this.backend} backend is asynchronous; use the engine's async methods`);
    return array instanceof Float32Array ? array : Float32Array.from(array as ArrayLike<number>);
  }

  getWeights(): TensorMap {
    const weights: TensorMap = {};
    for (const parameter of this.parameterLayers()) {
      const packed = this.packedSync(parameter.buffer) as Float32Array;
      weights[parameter.layer] = packed.slice(0, parameter.size);
    }
    return weights;
  }

  setWeights(weights: TensorMap): void {
    for (const parameter of this.parameterLayers()) {
      const values = weights[parameter.layer];
      if (values === undefined) throw new Error(`setWeights: missing weights for layer '${parameter.layer}'`);
      if (values.length !== parameter.size) {
        throw new Error(`setWeights: layer '${parameter.layer}' needs ${parameter.size} weights [${parameter.shape.join(', ')}], got ${values.length}`);
      }
      const current = this.packedSync(parameter.buffer);
      const packed = current === null ? new Float32Array(3 * parameter.size) : current.slice();
      packed.set(values, 0);
      this.store(parameter.buffer, packed);
      this.hostParameters.delete(parameter.buffer);
    }
  }

  getOptimizerState(): OptimizerState {
    const m: TensorMap = {};
    const v: TensorMap = {};
    for (const parameter of this.parameterLayers()) {
      const packed = this.packedSync(parameter.buffer) as Float32Array;
      m[parameter.layer] = packed.slice(parameter.size, 2 * parameter.size);
      v[parameter.layer] = packed.slice(2 * parameter.size, 3 * parameter.size);
    }
    return { step: this.step, m, v };
  }

  setOptimizerState(state: OptimizerState): void {
    for (const parameter of this.parameterLayers()) {
      const m = state.m[parameter.layer];
      const v = state.v[parameter.layer];
      if (m === undefined || v === undefined || m.length !== parameter.size || v.length !== parameter.size) {
        throw new Error(`setOptimizerState: layer '${parameter.layer}' needs moments of ${parameter.size} values each`);
      }
      const packed = (this.packedSync(parameter.buffer) as Float32Array).slice();
      packed.set(m, parameter.size);
      packed.set(v, 2 * parameter.size);
      this.store(parameter.buffer, packed);
      this.hostParameters.delete(parameter.buffer);
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const plan of this.plans.values()) void (plan.run as { destroy?(): Promise<void> }).destroy?.();
    for (const kernel of this.built.values()) kernel.destroy?.();
    this.built.clear();
    this.buffers.clear();
    this.options.gpu.destroy();
  }
}

