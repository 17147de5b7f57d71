// Reference backend, dropout: multiplies every neuron's whole time row by its mask value,
// so one mask is shared by all steps. The backward pass multiplies by the same mask.

import { sampleSize, type DropoutLayer } from '../../common/network';

/**
 * Multiplies `values` (`[batch, c, h, w, T]`) by `mask` (`[batch, c, h, w]`, entries 0 or
 * `1/(1-p)`), the same mask value at every step. A mask made for a larger batch is
 * accepted, and only its first `batch` samples are used.
 */
export function applyDropoutMask(
  layer: DropoutLayer,
  values: Float32Array,
  mask: Float32Array,
  batch: number,
  nSteps: number,
): Float32Array {
  const neurons = batch * sampleSize(layer.inShape);
  if (mask.length < neurons) {
    throw new Error(
      `dropout layer '${layer.name}': mask has ${mask.length} values but batch ${batch} × ` +
        `[${layer.inShape.join(', ')}] needs ${neurons}; pass a [batch, c, h, w] mask`,
    );
  }

  const output = new Float32Array(neurons * nSteps);
  for (let neuron = 0; neuron < neurons; neuron++) {
    const base = neuron * nSteps;
    for (let t = 0; t < nSteps; t++) output[base + t] = values[base + t] * mask[neuron];
  }
  return output;
}
