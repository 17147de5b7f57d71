// Runtime support: initial weights as the reference runs draw them, from a seeded generator.

import { isSynapse, type Network } from '../common/network';
import type { Rng } from './rng';
import type { TensorMap } from './engine';

/**
 * Draws every trainable layer's weights: conv `U(-b, b)` with `b = 1/sqrt(in_channels·kh·kw)`,
 * linear `N(0, 2/n_inputs)`, each then multiplied by the layer's `weight_scale`.
 * Layers are drawn in spec order, so the same seed gives the same weights.
 */
export function initialWeights(network: Network, rng: Rng): TensorMap {
  const weights: TensorMap = {};
  for (const layer of network.layers) {
    if (!isSynapse(layer)) continue;
    const size = layer.weightShape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (layer.type === 'conv') {
      const bound = 1 / Math.sqrt(layer.inChannels * layer.kernelSize[0] * layer.kernelSize[1]);
      for (let i = 0; i < size; i++) values[i] = rng.uniformRange(-bound, bound) * layer.weightScale;
    } else {
      const std = Math.sqrt(2 / layer.nInputs);
      for (let i = 0; i < size; i++) values[i] = rng.normal() * std * layer.weightScale;
    }
    weights[layer.name] = values;
  }
  return weights;
}
