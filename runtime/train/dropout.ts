// Training regularisation: per-batch dropout masks, one per sample and neuron, shared over time.

import { sampleSize, type Network } from '../../common/network';
import type { TensorMap } from '../engine';
import type { Rng } from '../rng';

/**
 * Draws one Bernoulli mask `[batch, c, h, w]` per dropout layer, in spec order: 0 with
 * probability p, else `1/(1-p)`. The engine applies the same mask at every time step.
 * Returns undefined when the network has no dropout layer, so no draw is made.
 */
export function drawDropoutMasks(network: Network, batchSize: number, rng: Rng): TensorMap | undefined {
  let masks: TensorMap | undefined;
  for (const layer of network.layers) {
    if (layer.type !== 'dropout') continue;
    const mask = new Float32Array(batchSize * sampleSize(layer.inShape));
    const keptValue = 1 / (1 - layer.p);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < layer.p ? 0 : keptValue;
    masks ??= {};
    masks[layer.name] = mask;
  }
  return masks;
}
