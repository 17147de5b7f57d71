// Test support: small random networks, batches and dropout masks, so backends can be compared
// with each other on many layer mixes rather than only on the reference vectors.

import { sampleSize, type InputEncoding, type Layer, type LossKind, type Network, type Pair, type SampleShape } from '../../common/network';
import type { Batch, TensorMap } from '../../runtime/engine';
import type { Rng } from '../../runtime/rng';
import { buildConv, buildDropout, buildLinear, buildNetwork, buildPooling } from './network-builder';

export interface RandomNetworkOptions {
  /** Largest `T` to draw (default 30). The kernel loss needs at least 5. */
  maxSteps?: number;
  /** Loss to use; drawn at random when absent. */
  loss?: LossKind;
  /** Input encoding; drawn at random when absent. */
  encoding?: InputEncoding;
}

/** Most hidden layers before the output layer. */
const MAX_HIDDEN_LAYERS = 3;
/** Draws before a conv or pooling layer that fits the input is given up for a simpler one. */
const MAX_LAYOUT_DRAWS = 20;

/**
 * Draws a small valid network of 0 to 3 hidden layers and a linear output layer with
 * `n_class` outputs. Hidden layers mix conv (kernels 1–5, rectangular, stride 1–3,
 * padding 0–2, dilation 1–2), pooling (kernel 2–3, sometimes a custom stride, padding or
 * theta), dropout and linear. Thresholds and weight scales vary widely, so silent and
 * spiking neurons both occur.
 */
export function randomNetwork(rng: Rng, options: RandomNetworkOptions = {}): Network {
  const maxSteps = options.maxSteps ?? 30;
  const { nSteps, loss } = drawStepsAndLoss(rng, maxSteps, options.loss);
  const inputEncoding = options.encoding ?? (rng.uniform() < 0.5 ? 'static' : 'events');
  const inputShape: SampleShape = [1 + rng.integer(3), 3 + rng.integer(10), 3 + rng.integer(10)];
  const nClass = 2 + rng.integer(4);
  const desiredCount = 1 + rng.integer(nSteps);

  const layers: Layer[] = [];
  let shape = inputShape;
  const hiddenCount = rng.integer(MAX_HIDDEN_LAYERS + 1);
  for (let index = 0; index < hiddenCount; index++) {
    const layer = drawHiddenLayer(rng, `layer_${index + 1}`, shape);
    layers.push(layer);
    shape = layer.outShape;
  }
  layers.push(buildLinear('output', shape, { nOutputs: nClass, ...drawNeuron(rng) }));

  return buildNetwork(
    {
      name: 'random',
      nSteps,
      tauM: roundToHalf(rng.uniformRange(2, 8)),
      tauS: roundToHalf(rng.uniformRange(1.5, 5)),
      loss,
      nClass,
      desiredCount,
      undesiredCount: rng.integer(desiredCount),
      batchSize: 1 + rng.integer(4),
      inputEncoding,
      inputShape,
    },
    layers,
  );
}

/**
 * Draws a batch of `size` samples: normal input currents for static input, 0/1 events with
 * probability 0.3 per step for event input, and uniform labels.
 */
export function randomBatch(rng: Rng, network: Network, size: number): Batch {
  const neurons = size * sampleSize(network.inputShape);
  let input: Float32Array;
  if (network.inputEncoding === 'static') {
    input = new Float32Array(neurons);
    for (let i = 0; i < input.length; i++) input[i] = rng.normal();
  } else {
    input = new Float32Array(neurons * network.nSteps);
    for (let i = 0; i < input.length; i++) input[i] = rng.uniform() < 0.3 ? 1 : 0;
  }

  const labels = new Int32Array(size);
  for (let n = 0; n < size; n++) labels[n] = rng.integer(network.nClass);
  return { size, input, labels };
}

/** Draws one `[size, c, h, w]` mask per dropout layer: 0 with probability `p`, else `1/(1-p)`. */
export function randomDropoutMasks(rng: Rng, network: Network, size: number): TensorMap {
  const masks: TensorMap = {};
  for (const layer of network.layers) {
    if (layer.type !== 'dropout') continue;
    const mask = new Float32Array(size * sampleSize(layer.inShape));
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < layer.p ? 0 : 1 / (1 - layer.p);
    masks[layer.name] = mask;
  }
  return masks;
}

/** `T` values the kernel loss accepts: multiples of 5 below 10 and of 10 from 10 up. */
export function kernelLossSteps(maxSteps: number): number[] {
  const steps: number[] = [];
  if (maxSteps >= 5) steps.push(5);
  for (let t = 10; t <= maxSteps; t += 10) steps.push(t);
  return steps;
}

function drawStepsAndLoss(rng: Rng, maxSteps: number, requested: LossKind | undefined): { nSteps: number; loss: LossKind } {
  const kernelSteps = kernelLossSteps(maxSteps);
  if (requested === 'kernel' && kernelSteps.length === 0) {
    throw new Error(`randomNetwork: the kernel loss needs maxSteps of at least 5, got ${maxSteps}`);
  }

  const kinds: LossKind[] = kernelSteps.length > 0 ? ['kernel', 'count', 'softmax'] : ['count', 'softmax'];
  const loss = requested ?? kinds[rng.integer(kinds.length)];
  const nSteps = loss === 'kernel' ? kernelSteps[rng.integer(kernelSteps.length)] : 1 + rng.integer(maxSteps);
  return { nSteps, loss };
}

/** Draws a threshold and weight scale from ranges wide enough that some layers stay silent and some fire often. */
function drawNeuron(rng: Rng): { threshold: number; weightScale: number } {
  return { threshold: rng.uniformRange(0.3, 2), weightScale: rng.uniformRange(0.5, 5) };
}

function drawHiddenLayer(rng: Rng, name: string, inShape: SampleShape): Layer {
  // After a linear layer the input is [n, 1, 1]: only linear and dropout layers follow.
  const isFlat = inShape[1] === 1 && inShape[2] === 1;
  const kinds = isFlat ? ['linear', 'dropout'] : ['conv', 'conv', 'pooling', 'dropout', 'linear'];
  const kind = kinds[rng.integer(kinds.length)];

  switch (kind) {
    case 'conv':
      return drawConv(rng, name, inShape);
    case 'pooling':
      return drawPooling(rng, name, inShape) ?? drawConv(rng, name, inShape);
    case 'dropout':
      return buildDropout(name, inShape, Math.round(rng.uniformRange(0.1, 0.6) * 10) / 10);
    default:
      return buildLinear(name, inShape, { nOutputs: 2 + rng.integer(11), ...drawNeuron(rng) });
  }
}

function drawConv(rng: Rng, name: string, inShape: SampleShape): Layer {
  const outChannels = 1 + rng.integer(4);
  for (let draw = 0; draw < MAX_LAYOUT_DRAWS; draw++) {
    const kernelSize = drawPair(rng, 1, 5);
    const stride = drawPair(rng, 1, 3);
    const padding = drawPair(rng, 0, 2);
    const dilation = drawPair(rng, 1, 2);
    const fits = [0, 1].every((axis) => inShape[axis + 1] + 2 * padding[axis] >= dilation[axis] * (kernelSize[axis] - 1) + 1);
    if (fits) return buildConv(name, inShape, { outChannels, kernelSize, stride, padding, dilation, ...drawNeuron(rng) });
  }
  return buildConv(name, inShape, { outChannels, kernelSize: [1, 1], ...drawNeuron(rng) });
}

function drawPooling(rng: Rng, name: string, inShape: SampleShape): Layer | undefined {
  for (let draw = 0; draw < MAX_LAYOUT_DRAWS; draw++) {
    const kernelSize = drawPair(rng, 2, 3);
    const stride = rng.uniform() < 0.7 ? kernelSize : drawPair(rng, 1, 3);
    const padding: Pair = rng.uniform() < 0.7 ? [0, 0] : [1, 1];
    const theta = rng.uniform() < 0.5 ? undefined : rng.uniformRange(0.5, 2);
    const fits = [0, 1].every((axis) => inShape[axis + 1] + 2 * padding[axis] >= kernelSize[axis]);
    if (fits) return buildPooling(name, inShape, { kernelSize, stride, padding, theta });
  }
  return undefined;
}

function drawPair(rng: Rng, low: number, high: number): Pair {
  return [low + rng.integer(high - low + 1), low + rng.integer(high - low + 1)];
}

function roundToHalf(value: number): number {
  return Math.round(value * 2) / 2;
}
