// Test support: builds `Network` layers with every shape resolved, the same way the
// compiler resolves them, for hand-made and random test networks.

import type {
  ConvLayer,
  DropoutLayer,
  InputEncoding,
  Layer,
  LinearLayer,
  LossKind,
  Network,
  Pair,
  PoolingLayer,
  SampleShape,
} from '../../common/network';

/** Output size along one axis: `floor((in + 2·pad - dil·(k-1) - 1)/stride) + 1`. */
export function windowOutputSize(inSize: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((inSize + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

export interface ConvOptions {
  outChannels: number;
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  weightScale?: number;
  threshold?: number;
}

export function buildConv(name: string, inShape: SampleShape, options: ConvOptions): ConvLayer {
  const stride = options.stride ?? [1, 1];
  const padding = options.padding ?? [0, 0];
  const dilation = options.dilation ?? [1, 1];
  const [kernelH, kernelW] = options.kernelSize;
  const outShape: SampleShape = [
    options.outChannels,
    windowOutputSize(inShape[1], kernelH, stride[0], padding[0], dilation[0]),
    windowOutputSize(inShape[2], kernelW, stride[1], padding[1], dilation[1]),
  ];
  if (outShape[1] < 1 || outShape[2] < 1) {
    throw new Error(`conv '${name}': input [${inShape.join(', ')}] is too small for kernel [${kernelH}, ${kernelW}]`);
  }
  return {
    type: 'conv',
    name,
    inShape,
    outShape,
    inChannels: inShape[0],
    outChannels: options.outChannels,
    kernelSize: [kernelH, kernelW],
    stride,
    padding,
    dilation,
    weightScale: options.weightScale ?? 1,
    threshold: options.threshold ?? 1,
    weightShape: [options.outChannels, inShape[0], kernelH, kernelW],
  };
}

export interface PoolingOptions {
  kernelSize: Pair;
  /** Defaults to the kernel size. */
  stride?: Pair;
  padding?: Pair;
  theta?: number;
}

export function buildPooling(name: string, inShape: SampleShape, options: PoolingOptions): PoolingLayer {
  const stride = options.stride ?? options.kernelSize;
  const padding = options.padding ?? [0, 0];
  const outShape: SampleShape = [
    inShape[0],
    windowOutputSize(inShape[1], options.kernelSize[0], stride[0], padding[0], 1),
    windowOutputSize(inShape[2], options.kernelSize[1], stride[1], padding[1], 1),
  ];
  if (outShape[1] < 1 || outShape[2] < 1) {
    throw new Error(`pooling '${name}': input [${inShape.join(', ')}] is too small for kernel [${options.kernelSize.join(', ')}]`);
  }
  return {
    type: 'pooling',
    name,
    inShape,
    outShape,
    kernelSize: options.kernelSize,
    stride,
    padding,
    theta: options.theta ?? 1.1,
  };
}

export interface LinearOptions {
  nOutputs: number;
  weightScale?: number;
  threshold?: number;
}

export function buildLinear(name: string, inShape: SampleShape, options: LinearOptions): LinearLayer {
  const nInputs = inShape[0] * inShape[1] * inShape[2];
  return {
    type: 'linear',
    name,
    inShape,
    outShape: [options.nOutputs, 1, 1],
    nInputs,
    nOutputs: options.nOutputs,
    weightScale: options.weightScale ?? 1,
    threshold: options.threshold ?? 1,
    weightShape: [options.nOutputs, nInputs],
  };
}

export function buildDropout(name: string, inShape: SampleShape, p: number): DropoutLayer {
  return { type: 'dropout', name, inShape, outShape: inShape, p };
}

export interface NetworkSettings {
  name?: string;
  nSteps: number;
  tauM: number;
  tauS: number;
  loss: LossKind;
  nClass: number;
  desiredCount?: number;
  undesiredCount?: number;
  batchSize?: number;
  lr?: number;
  inputEncoding?: InputEncoding;
  inputShape: SampleShape;
}

/** Assembles a `Network` from settings and layers whose shapes are already resolved. */
export function buildNetwork(settings: NetworkSettings, layers: Layer[]): Network {
  const name = settings.name ?? 'test';
  return {
    name,
    specFile: `${name}.yaml`,
    specHash: `test-${name}`,
    nSteps: settings.nSteps,
    tauM: settings.tauM,
    tauS: settings.tauS,
    loss: settings.loss,
    nClass: settings.nClass,
    desiredCount: settings.desiredCount ?? 4,
    undesiredCount: settings.undesiredCount ?? 1,
    batchSize: settings.batchSize ?? 2,
    lr: settings.lr ?? 0.0005,
    epochs: 1,
    dataset: null,
    dataPath: null,
    inputEncoding: settings.inputEncoding ?? 'static',
    inputShape: settings.inputShape,
    layers,
  };
}
