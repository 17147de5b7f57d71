// Reference backend, synapses: the input current of conv and linear layers, applied
// independently at every step, and the input and weight gradients of those linear maps.
// Tensors are `[batch, c, h, w, T]` with time fastest.

import { sampleSize, type ConvLayer, type LinearLayer, type SynapseLayer } from '../../common/network';
import { windowTaps, type WindowTap } from './window';

const tapCache = new WeakMap<ConvLayer, WindowTap[]>();

function convTaps(layer: ConvLayer): WindowTap[] {
  let taps = tapCache.get(layer);
  if (!taps) {
    taps = windowTaps(layer);
    tapCache.set(layer, taps);
  }
  return taps;
}

/** Computes a conv layer's input current `I[t] = W ⊛ ψprev[t]` for every sample and step. */
export function convForward(
  layer: ConvLayer,
  weights: Float32Array,
  inputPsp: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  const [inChannels, inH, inW] = layer.inShape;
  const [outChannels, outH, outW] = layer.outShape;
  const inPixels = inH * inW;
  const outPixels = outH * outW;
  const kernelArea = layer.kernelSize[0] * layer.kernelSize[1];
  const taps = convTaps(layer);

  const current = new Float64Array(batch * outChannels * outPixels * nSteps);
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      for (let ic = 0; ic < inChannels; ic++) {
        const weightBase = (oc * inChannels + ic) * kernelArea;
        const inPlane = (n * inChannels + ic) * inPixels;
        const outPlane = (n * outChannels + oc) * outPixels;
        for (const tap of taps) {
          const weight = weights[weightBase + tap.kernelOffset];
          const inBase = (inPlane + tap.inPixel) * nSteps;
          const outBase = (outPlane + tap.outPixel) * nSteps;
          for (let t = 0; t < nSteps; t++) current[outBase + t] += weight * inputPsp[inBase + t];
        }
      }
    }
  }
  return Float32Array.from(current);
}

/**
 * Computes `∂E/∂ψprev` from `∂E/∂I` for a conv layer: the transpose of `convForward`,
 * so every tap sends `W · ∂E/∂I` back to the input pixel it read.
 */
export function convInputGrad(
  layer: ConvLayer,
  weights: Float32Array,
  gradCurrent: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  const [inChannels, inH, inW] = layer.inShape;
  const [outChannels, outH, outW] = layer.outShape;
  const inPixels = inH * inW;
  const outPixels = outH * outW;
  const kernelArea = layer.kernelSize[0] * layer.kernelSize[1];
  const taps = convTaps(layer);

  const gradInput = new Float64Array(batch * inChannels * inPixels * nSteps);
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      for (let ic = 0; ic < inChannels; ic++) {
        const weightBase = (oc * inChannels + ic) * kernelArea;
        const inPlane = (n * inChannels + ic) * inPixels;
        const outPlane = (n * outChannels + oc) * outPixels;
        for (const tap of taps) {
          const weight = weights[weightBase + tap.kernelOffset];
          const inBase = (inPlane + tap.inPixel) * nSteps;
          const outBase = (outPlane + tap.outPixel) * nSteps;
          for (let t = 0; t < nSteps; t++) gradInput[inBase + t] += weight * gradCurrent[outBase + t];
        }
      }
    }
  }
  return Float32Array.from(gradInput);
}

/**
 * Computes `∂E/∂W` for a conv layer: the correlation of `∂E/∂I` with the input PSP,
 * summed over batch, output pixels and steps (`∂E/∂W += ∂E/∂I[t] ⊗ ψprev[t]`).
 */
export function convWeightGrad(
  layer: ConvLayer,
  inputPsp: Float32Array,
  gradCurrent: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  const [inChannels, inH, inW] = layer.inShape;
  const [outChannels, outH, outW] = layer.outShape;
  const inPixels = inH * inW;
  const outPixels = outH * outW;
  const kernelArea = layer.kernelSize[0] * layer.kernelSize[1];
  const taps = convTaps(layer);

  const gradWeights = new Float64Array(outChannels * inChannels * kernelArea);
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      for (let ic = 0; ic < inChannels; ic++) {
        const weightBase = (oc * inChannels + ic) * kernelArea;
        const inPlane = (n * inChannels + ic) * inPixels;
        const outPlane = (n * outChannels + oc) * outPixels;
        for (const tap of taps) {
          const inBase = (inPlane + tap.inPixel) * nSteps;
          const outBase = (outPlane + tap.outPixel) * nSteps;
          let sum = 0;
          for (let t = 0; t < nSteps; t++) sum += gradCurrent[outBase + t] * inputPsp[inBase + t];
          gradWeights[weightBase + tap.kernelOffset] += sum;
        }
      }
    }
  }
  return Float32Array.from(gradWeights);
}

/**
 * Computes a linear layer's input current `I[t] = W · ψprev[t]`, where the input is
 * flattened channel, row, column (which `[batch, c, h, w, T]` already is per sample).
 */
export function linearForward(
  layer: LinearLayer,
  weights: Float32Array,
  inputPsp: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  const { nInputs, nOutputs } = layer;
  const current = new Float64Array(batch * nOutputs * nSteps);
  for (let n = 0; n < batch; n++) {
    for (let out = 0; out < nOutputs; out++) {
      const outBase = (n * nOutputs + out) * nSteps;
      for (let input = 0; input < nInputs; input++) {
        const weight = weights[out * nInputs + input];
        const inBase = (n * nInputs + input) * nSteps;
        for (let t = 0; t < nSteps; t++) current[outBase + t] += weight * inputPsp[inBase + t];
      }
    }
  }
  return Float32Array.from(current);
}

/** Computes `∂E/∂ψprev[t] = Wᵀ · ∂E/∂I[t]` for a linear layer. */
export function linearInputGrad(
  layer: LinearLayer,
  weights: Float32Array,
  gradCurrent: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  const { nInputs, nOutputs } = layer;
  const gradInput = new Float64Array(batch * nInputs * nSteps);
  for (let n = 0; n < batch; n++) {
    for (let out = 0; out < nOutputs; out++) {
      const outBase = (n * nOutputs + out) * nSteps;
      for (let input = 0; input < nInputs; input++) {
        const weight = weights[out * nInputs + input];
        const inBase = (n * nInputs + input) * nSteps;
        for (let t = 0; t < nSteps; t++) gradInput[inBase + t] += weight * gradCurrent[outBase + t];
      }
    }
  }
  return Float32Array.from(gradInput);
}

/** Computes `∂E/∂W = Σ_{n,t} ∂E/∂I[t] ⊗ ψprev[t]` for a linear layer. */
export function linearWeightGrad(
  layer: LinearLayer,
  inputPsp: Float32Array,
  gradCurrent: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  const { nInputs, nOutputs } = layer;
  const gradWeights = new Float64Array(nOutputs * nInputs);
  for (let n = 0; n < batch; n++) {
    for (let out = 0; out < nOutputs; out++) {
      const outBase = (n * nOutputs + out) * nSteps;
      for (let input = 0; input < nInputs; input++) {
        const inBase = (n * nInputs + input) * nSteps;
        let sum = 0;
        for (let t = 0; t < nSteps; t++) sum += gradCurrent[outBase + t] * inputPsp[inBase + t];
        gradWeights[out * nInputs + input] += sum;
      }
    }
  }
  return Float32Array.from(gradWeights);
}

/** Computes the input current of either synapse kind. */
export function synapseForward(
  layer: SynapseLayer,
  weights: Float32Array,
  inputPsp: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  checkLength(layer, 'input PSP', inputPsp, batch * sampleSize(layer.inShape) * nSteps);
  return layer.type === 'conv'
    ? convForward(layer, weights, inputPsp, batch, nSteps)
    : linearForward(layer, weights, inputPsp, batch, nSteps);
}

/** Computes `∂E/∂ψprev` of either synapse kind. */
export function synapseInputGrad(
  layer: SynapseLayer,
  weights: Float32Array,
  gradCurrent: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  checkLength(layer, 'current gradient', gradCurrent, batch * sampleSize(layer.outShape) * nSteps);
  return layer.type === 'conv'
    ? convInputGrad(layer, weights, gradCurrent, batch, nSteps)
    : linearInputGrad(layer, weights, gradCurrent, batch, nSteps);
}

/** Computes `∂E/∂W` of either synapse kind. */
export function synapseWeightGrad(
  layer: SynapseLayer,
  inputPsp: Float32Array,
  gradCurrent: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  checkLength(layer, 'input PSP', inputPsp, batch * sampleSize(layer.inShape) * nSteps);
  checkLength(layer, 'current gradient', gradCurrent, batch * sampleSize(layer.outShape) * nSteps);
  return layer.type === 'conv'
    ? convWeightGrad(layer, inputPsp, gradCurrent, batch, nSteps)
    : linearWeightGrad(layer, inputPsp, gradCurrent, batch, nSteps);
}

function checkLength(layer: SynapseLayer, tensorName: string, values: Float32Array, expected: number): void {
  if (values.length !== expected) {
    throw new Error(`layer '${layer.name}': ${tensorName} has ${values.length} values, expected ${expected}`);
  }
}
