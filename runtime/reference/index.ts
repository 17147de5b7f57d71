// Reference backend, engine: the `Engine` contract in plain TypeScript on the CPU, written
// to be checked line by line against the TSSL-BP math. Slow, but dependable for tests,
// for debugging a model, and for checking the generated kernels.

import { isSynapse, sampleSize, type Network } from '../../common/network';
import {
  NonFiniteError,
  type Batch,
  type Engine,
  type OptimizerState,
  type PassOptions,
  type PassResult,
  type StepResult,
  type TensorMap,
} from '../engine';
import { initialWeights } from '../init';
import { lossAndGradient } from '../loss';
import { adamWStep, createOptimizerState } from '../optimizer';
import { Rng } from '../rng';
import { encodeEventInput, encodeStaticInput } from './encoding';
import { backwardPass, forwardPass } from './network-pass';

export interface ReferenceEngineOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** Creates the reference engine with initial weights drawn from `seed` as the reference runs do. */
export function createReferenceEngine(network: Network, options: ReferenceEngineOptions = {}): Engine {
  return new ReferenceEngine(network, options.seed ?? 0);
}

class ReferenceEngine implements Engine {
  readonly backend = 'reference';
  private weights: TensorMap;
  private optimizerState: OptimizerState;

  constructor(readonly network: Network, seed: number) {
    this.weights = initialWeights(network, new Rng(seed));
    this.optimizerState = createOptimizerState(this.weights);
  }

  getWeights(): TensorMap {
    return copyTensorMap(this.weights);
  }

  setWeights(weights: TensorMap): void {
    this.checkTensorMap('setWeights', weights);
    this.weights = copyTensorMap(weights);
  }

  getOptimizerState(): OptimizerState {
    const { step, m, v } = this.optimizerState;
    return { step, m: copyTensorMap(m), v: copyTensorMap(v) };
  }

  setOptimizerState(state: OptimizerState): void {
    if (!(Number.isInteger(state.step) && state.step >= 0)) {
      throw new Error(`setOptimizerState: step ${state.step} is invalid; it must be a non-negative integer`);
    }
    this.checkTensorMap('setOptimizerState (m)', state.m);
    this.checkTensorMap('setOptimizerState (v)', state.v);
    this.optimizerState = { step: state.step, m: copyTensorMap(state.m), v: copyTensorMap(state.v) };
  }

  async forwardBackward(batch: Batch, options: PassOptions = {}): Promise<PassResult> {
    this.checkBatch(batch);
    const inputPsp = this.encode(batch);
    const records = forwardPass(this.network, this.weights, inputPsp, batch.size, options.dropoutMasks);
    const outputPsp = records[records.length - 1].outputPsp;

    const { loss, grad } = lossAndGradient(this.network, outputPsp, batch.labels, batch.size);
    const weightGrads = backwardPass(this.network, this.weights, records, grad, batch.size);

    const result: PassResult = { loss, outputPsp, weightGrads };
    if (options.keepActivations) {
      result.activations = { input_psp: inputPsp };
      for (const record of records) result.activations[record.layer.name] = record.outputPsp;
    }
    return result;
  }

  async trainStep(batch: Batch, lr: number, options: PassOptions = {}): Promise<StepResult> {
    const { loss, outputPsp, weightGrads } = await this.forwardBackward(batch, options);
    if (!Number.isFinite(loss)) throw new NonFiniteError('loss', loss);

    const { gradNorm } = adamWStep(this.weights, weightGrads, this.optimizerState, lr);
    return { loss, outputPsp, gradNorm };
  }

  async forward(batch: Batch): Promise<Float32Array> {
    this.checkBatch(batch);
    const records = forwardPass(this.network, this.weights, this.encode(batch), batch.size, undefined);
    return records[records.length - 1].outputPsp;
  }

  dispose(): void {}

  /** Turns the batch's input currents into input PSPs, `[batch, c, h, w, T]`. */
  private encode(batch: Batch): Float32Array {
    const { nSteps, tauS, inputEncoding } = this.network;
    const neurons = batch.size * sampleSize(this.network.inputShape);
    if (inputEncoding === 'static') return encodeStaticInput(batch.input.subarray(0, neurons), nSteps, tauS);
    return encodeEventInput(batch.input.subarray(0, neurons * nSteps), nSteps, tauS);
  }

  /** Checks the batch; longer input and label arrays are accepted and only their first `size` samples used. */
  private checkBatch(batch: Batch): void {
    const { inputShape, inputEncoding, nSteps, nClass } = this.network;
    if (!(Number.isInteger(batch.size) && batch.size > 0)) {
      throw new Error(`batch size ${batch.size} is invalid; it must be a positive integer`);
    }

    const perSample = sampleSize(inputShape) * (inputEncoding === 'events' ? nSteps : 1);
    const layout = inputEncoding === 'events' ? '[batch, c, h, w, T]' : '[batch, c, h, w]';
    if (batch.input.length < batch.size * perSample) {
      throw new Error(
        `batch input has ${batch.input.length} values but ${batch.size} samples of ${inputEncoding} input ` +
          `[${inputShape.join(', ')}] need ${batch.size * perSample}; pass the input as ${layout}`,
      );
    }

    if (batch.labels.length < batch.size) {
      throw new Error(`batch has ${batch.labels.length} labels for ${batch.size} samples; pass one label per sample`);
    }
    for (let n = 0; n < batch.size; n++) {
      const label = batch.labels[n];
      if (!(label >= 0 && label < nClass)) {
        throw new Error(`label ${label} of sample ${n} is outside the classes 0 … ${nClass - 1}`);
      }
    }
  }

  /** Checks that `tensors` has exactly one array of the right size per trainable layer. */
  private checkTensorMap(where: string, tensors: TensorMap): void {
    const synapses = this.network.layers.filter(isSynapse);
    const names = synapses.map((layer) => layer.name);
    for (const name of Object.keys(tensors)) {
      if (!names.includes(name)) {
        throw new Error(`${where}: '${name}' is not a trainable layer of '${this.network.name}'; expected ${names.join(', ')}`);
      }
    }
    for (const layer of synapses) {
      const values = tensors[layer.name];
      const size = layer.weightShape.reduce((a, b) => a * b, 1);
      if (values === undefined) {
        throw new Error(`${where}: missing layer '${layer.name}'; pass ${size} values of shape [${layer.weightShape.join(', ')}]`);
      }
      if (values.length !== size) {
        throw new Error(
          `${where}: layer '${layer.name}' has ${values.length} values but shape [${layer.weightShape.join(', ')}] needs ${size}`,
        );
      }
    }
  }
}

function copyTensorMap(tensors: TensorMap): TensorMap {
  const copy: TensorMap = {};
  for (const [name, values] of Object.entries(tensors)) copy[name] = Float32Array.from(values);
  return copy;
}
