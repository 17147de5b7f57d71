// Pass `lower`: turns a validated `Network` into the forward graph of one training step,
// ending in the loss: input encoding, then per layer its synapse and LIF neuron, pooling or
// dropout, each tensor with its full `[N, channels, height, width, time]` shape.

import type { ConvLayer, Layer, LinearLayer, Network, PoolingLayer, DropoutLayer } from '../../common/network';
import { addOp, addTensor, createModule, type Attrs, type IrModule, type Shape } from '../ir/ir';

/** `d` of the kernel loss: `0 1 1 1 1` for T below 10, `0 1 0 1 …` from 10 up, repeated to length T. */
export function desiredSpikePattern(nSteps: number): number[] {
  const period = nSteps < 10 ? [0, 1, 1, 1, 1] : [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
  if (nSteps % period.length !== 0) {
    throw new Error(
      `lower: the kernel loss needs n_steps to be a multiple of ${period.length} (got ${nSteps}); ` +
        `use 5, 10, 20, 30, … or the count or softmax loss`,
    );
  }
  return Array.from({ length: nSteps }, (_, t) => period[t % period.length]);
}

/** Applies the synaptic filter `a[t] = (1 - 1/τs)·a[t-1] + x[t]`, `ψ[t] = a[t]/τs` in float64. */
export function synapticFilter(values: number[], tauS: number): number[] {
  let a = 0;
  return values.map((value) => {
    a = (1 - 1 / tauS) * a + value;
    return a / tauS;
  });
}

/**
 * The kernel-loss target of the label's output neuron: the desired spike train filtered twice,
 * as the authors' implementation does (once when building the target, once inside the loss).
 */
export function kernelLossTarget(network: Network): number[] {
  return synapticFilter(synapticFilter(desiredSpikePattern(network.nSteps), network.tauS), network.tauS);
}

/** `1 - (1 - 1/τs)^(t+1)`: the static input's PSP at step t relative to the image. */
export function staticInputScale(network: Network): number[] {
  const decay = 1 - 1 / network.tauS;
  return Array.from({ length: network.nSteps }, (_, t) => 1 - Math.pow(decay, t + 1));
}

function timed(network: Network, shape: readonly number[]): Shape {
  return ['N', ...shape, network.nSteps];
}

/** Builds the forward graph and the loss of `network`. */
export function lower(network: Network): IrModule {
  const module = createModule(network);
  const T = network.nSteps;
  const inputShape = network.inputEncoding === 'static' ? ['N', ...network.inputShape] : timed(network, network.inputShape);

  addTensor(module, { name: 'x', shape: inputShape as Shape, role: 'feed', layer: null });
  addTensor(module, { name: 'labels', shape: ['N'], role: 'feed', layer: null });
  addTensor(module, { name: 'input_psp', shape: timed(network, network.inputShape), role: 'activation', layer: null });
  addOp(module, {
    kind: network.inputEncoding === 'static' ? 'encode_static' : 'encode_events',
    results: ['input_psp'],
    operands: ['x'],
    attrs: { tau_s: network.tauS, n_steps: T },
    layer: null,
    phase: 'forward',
  });

  let previous = 'input_psp';
  for (const layer of network.layers) previous = lowerLayer(module, layer, previous);

  const last = network.layers[network.layers.length - 1];
  if (last === undefined || (last.type !== 'conv' && last.type !== 'linear')) {
    throw new Error(`lower: network '${network.name}' must end in a conv or linear layer, whose PSPs are the output`);
  }
  addTensor(module, { name: 'loss', shape: [], role: 'activation', layer: null });
  addOp(module, { kind: 'loss', results: ['loss'], operands: [previous, 'labels'], attrs: lossAttrs(network), layer: null, phase: 'forward' });
  return module;
}

/** Loss settings shared by the `loss` op and its gradient. */
export function lossAttrs(network: Network): Attrs {
  switch (network.loss) {
    case 'kernel':
      return { kind: 'kernel', n_class: network.nClass, target: kernelLossTarget(network) };
    case 'count':
      return { kind: 'count', n_class: network.nClass, desired: network.desiredCount, undesired: network.undesiredCount };
    case 'softmax':
      return { kind: 'softmax', n_class: network.nClass };
  }
}

function lowerLayer(module: IrModule, layer: Layer, input: string): string {
  switch (layer.type) {
    case 'conv':
    case 'linear':
      return lowerSynapse(module, layer, input);
    case 'pooling':
      return lowerPooling(module, layer, input);
    case 'dropout':
      return lowerDropout(module, layer, input);
  }
}

/** Synapse attributes (`conv` and its gradients); linear layers have none. */
export function synapseAttrs(layer: ConvLayer | LinearLayer): Attrs {
  if (layer.type === 'linear') return {};
  return { kernel: layer.kernelSize, stride: layer.stride, padding: layer.padding, dilation: layer.dilation };
}

/** LIF attributes shared by the neuron and its TSSL-BP backward. */
export function neuronAttrs(module: IrModule, layer: ConvLayer | LinearLayer): Attrs {
  return { tau_m: module.network.tauM, tau_s: module.network.tauS, threshold: layer.threshold };
}

function lowerSynapse(module: IrModule, layer: ConvLayer | LinearLayer, input: string): string {
  const network = module.network;
  const current = `${layer.name}.I`;
  const psp = `${layer.name}.psp`;
  addTensor(module, { name: `${layer.name}.w`, shape: [...layer.weightShape], role: 'parameter', layer: layer.name });
  addTensor(module, { name: current, shape: timed(network, layer.outShape), role: 'activation', layer: layer.name });
  addTensor(module, { name: psp, shape: timed(network, layer.outShape), role: 'activation', layer: layer.name });

  addOp(module, {
    kind: layer.type,
    results: [current],
    operands: [input, `${layer.name}.w`],
    attrs: synapseAttrs(layer),
    layer: layer.name,
    phase: 'forward',
  });
  addOp(module, { kind: 'lif', results: [psp], operands: [current], attrs: neuronAttrs(module, layer), layer: layer.name, phase: 'forward' });
  return psp;
}

function lowerPooling(module: IrModule, layer: PoolingLayer, input: string): string {
  const psp = `${layer.name}.psp`;
  addTensor(module, { name: psp, shape: timed(module.network, layer.outShape), role: 'activation', layer: layer.name });
  addOp(module, {
    kind: 'sum_pool',
    results: [psp],
    operands: [input],
    attrs: { kernel: layer.kernelSize, stride: layer.stride, padding: layer.padding, theta: layer.theta },
    layer: layer.name,
    phase: 'forward',
  });
  return psp;
}

function lowerDropout(module: IrModule, layer: DropoutLayer, input: string): string {
  const psp = `${layer.name}.psp`;
  const mask = `${layer.name}.mask`;
  addTensor(module, { name: mask, shape: ['N', ...layer.inShape], role: 'feed', layer: layer.name });
  addTensor(module, { name: psp, shape: timed(module.network, layer.outShape), role: 'activation', layer: layer.name });
  addOp(module, { kind: 'dropout', results: [psp], operands: [input, mask], attrs: { p: layer.p }, layer: layer.name, phase: 'forward' });
  return psp;
}
