// Reference backend, whole-network passes: the forward pass through every layer in spec
// order, keeping what backward needs, and the backward pass that returns weight gradients.

import { isSynapse, type Layer, type Network } from '../../common/network';
import type { TensorMap } from '../engine';
import { applyDropoutMask } from './dropout';
import { lifBackward, lifForward, type LifTrace, type NeuronParams } from './lif';
import { poolingBackward, poolingForward } from './pooling';
import { synapseForward, synapseInputGrad, synapseWeightGrad } from './synapse';

/** Forward-pass record of one layer, kept for the backward pass. */
export interface LayerRecord {
  layer: Layer;
  /** The PSP the layer received, `[batch, c, h, w, T]`. */
  inputPsp: Float32Array;
  /** The PSP the layer passes on, `[batch, c, h, w, T]`. */
  outputPsp: Float32Array;
  /** Synapse layers: the LIF neuron's per-step state. */
  trace?: LifTrace;
  /** Dropout layers in training: the mask applied, `[batch, c, h, w]`. */
  mask?: Float32Array;
}

function neuronParams(network: Network, threshold: number): NeuronParams {
  return { nSteps: network.nSteps, tauM: network.tauM, tauS: network.tauS, threshold };
}

/**
 * Runs every layer on `inputPsp`. Dropout layers use their mask from `dropoutMasks` and are
 * the identity when it has none (as at evaluation).
 */
export function forwardPass(
  network: Network,
  weights: TensorMap,
  inputPsp: Float32Array,
  batch: number,
  dropoutMasks: TensorMap | undefined,
): LayerRecord[] {
  const nSteps = network.nSteps;
  const records: LayerRecord[] = [];
  let psp = inputPsp;

  for (const layer of network.layers) {
    const record: LayerRecord = { layer, inputPsp: psp, outputPsp: psp };
    switch (layer.type) {
      case 'conv':
      case 'linear': {
        const current = synapseForward(layer, weights[layer.name], psp, batch, nSteps);
        record.trace = lifForward(current, neuronParams(network, layer.threshold));
        record.outputPsp = record.trace.psp;
        break;
      }
      case 'pooling':
        record.outputPsp = poolingForward(layer, psp, batch, nSteps);
        break;
      case 'dropout': {
        const mask = dropoutMasks?.[layer.name];
        if (mask) {
          record.mask = mask;
          record.outputPsp = applyDropoutMask(layer, psp, mask, batch, nSteps);
        }
        break;
      }
    }
    records.push(record);
    psp = record.outputPsp;
  }
  return records;
}

/**
 * Propagates `gradOutputPsp` (`∂E/∂ψ` of the last layer) back through every layer and
 * returns `∂E/∂W` per trainable layer. Below the first trainable layer no gradient is needed,
 * so the pass stops there.
 */
export function backwardPass(
  network: Network,
  weights: TensorMap,
  records: LayerRecord[],
  gradOutputPsp: Float32Array,
  batch: number,
): TensorMap {
  const nSteps = network.nSteps;
  const firstSynapse = network.layers.findIndex(isSynapse);
  const weightGrads: TensorMap = {};
  if (firstSynapse < 0) return weightGrads;

  let gradPsp = gradOutputPsp;
  for (let index = records.length - 1; index >= firstSynapse; index--) {
    const { layer, inputPsp, trace, mask } = records[index];
    const needsInputGrad = index > firstSynapse;

    switch (layer.type) {
      case 'conv':
      case 'linear': {
        const gradCurrent = lifBackward(trace!, gradPsp, neuronParams(network, layer.threshold));
        weightGrads[layer.name] = synapseWeightGrad(layer, inputPsp, gradCurrent, batch, nSteps);
        if (needsInputGrad) gradPsp = synapseInputGrad(layer, weights[layer.name], gradCurrent, batch, nSteps);
        break;
      }
      case 'pooling':
        gradPsp = poolingBackward(layer, gradPsp, batch, nSteps);
        break;
      case 'dropout':
        if (mask) gradPsp = applyDropoutMask(layer, gradPsp, mask, batch, nSteps);
        break;
    }
  }
  return weightGrads;
}
