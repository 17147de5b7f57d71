// Shared data model: a validated network with every shape resolved, as the compiler
// writes it into manifest.json and the runtime reads it back.

/** Per-sample shape `[channels, height, width]`; batch and time are separate axes. */
export type SampleShape = [number, number, number];

/** A pair of per-axis values `[height, width]`. */
export type Pair = [number, number];

export type LossKind = 'kernel' | 'count' | 'softmax';

/** Encoding of the input current that reaches the first synapse. */
export type InputEncoding =
  /** A static image presented as the same current at every step. */
  | 'static'
  /** A different input per step, for event data such as N-MNIST. */
  | 'events';

export interface ConvLayer {
  type: 'conv';
  name: string;
  inShape: SampleShape;
  outShape: SampleShape;
  inChannels: number;
  outChannels: number;
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  weightScale: number;
  threshold: number;
  /** `[out_channels, in_channels, kh, kw]`, row-major. */
  weightShape: [number, number, number, number];
}

export interface LinearLayer {
  type: 'linear';
  name: string;
  inShape: SampleShape;
  /** `[n_outputs, 1, 1]`. */
  outShape: SampleShape;
  nInputs: number;
  nOutputs: number;
  weightScale: number;
  threshold: number;
  /** `[n_outputs, n_inputs]`, row-major; inputs flattened channel, row, column. */
  weightShape: [number, number];
}

export interface PoolingLayer {
  type: 'pooling';
  name: string;
  inShape: SampleShape;
  outShape: SampleShape;
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  /** Scale applied to each window sum. */
  theta: number;
}

export interface DropoutLayer {
  type: 'dropout';
  name: string;
  inShape: SampleShape;
  outShape: SampleShape;
  /** Probability of dropping a neuron; kept neurons are scaled by `1/(1-p)`. */
  p: number;
}

export type Layer = ConvLayer | LinearLayer | PoolingLayer | DropoutLayer;
export type SynapseLayer = ConvLayer | LinearLayer;

export interface Network {
  /** Spec file name without extension, e.g. `mnist`. */
  name: string;
  /** Path of the spec file as given to the compiler. */
  specFile: string;
  /** SHA-256 of the spec's layer and neuron settings; checkpoints carry it. */
  specHash: string;

  nSteps: number;
  tauM: number;
  tauS: number;
  loss: LossKind;
  nClass: number;
  desiredCount: number;
  undesiredCount: number;

  /** Training settings from the spec; the runtime's flags override them. */
  batchSize: number;
  lr: number;
  epochs: number;
  dataset: string | null;
  dataPath: string | null;

  inputEncoding: InputEncoding;
  inputShape: SampleShape;
  layers: Layer[];
}

export function isSynapse(layer: Layer): layer is SynapseLayer {
  return layer.type === 'conv' || layer.type === 'linear';
}

export function sampleSize(shape: SampleShape): number {
  return shape[0] * shape[1] * shape[2];
}
