// Front end, stage 5: layer settings with defaults, every layer's shape, and the checks that need shapes.

import type { Layer, Pair, SampleShape } from '../../common/network';
import { sampleSize } from '../../common/network';
import { DiagnosticList, formatShape, type KeyPath } from './diagnostics';
import type { SourceLocator } from './parse';
import { isMapping, SectionReader } from './settings';

/** Pooling scale applied to each window sum when the spec sets no `theta`. */
export const DEFAULT_THETA = 1.1;
export const DEFAULT_DROPOUT_P = 0.5;

// A field is undefined when it is missing without a default or was reported as invalid.
interface CommonParams {
  name: string;
  path: KeyPath;
}
interface ConvParams extends CommonParams {
  type: 'conv';
  inChannels?: number;
  outChannels?: number;
  kernelSize?: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  weightScale?: number;
  threshold?: number;
}
interface LinearParams extends CommonParams {
  type: 'linear';
  nInputs?: number;
  nOutputs?: number;
  weightScale?: number;
  threshold?: number;
}
interface PoolingParams extends CommonParams {
  type: 'pooling';
  kernelSize?: Pair;
  stride?: Pair;
  padding?: Pair;
  theta?: number;
}
interface DropoutParams extends CommonParams {
  type: 'dropout';
  p?: number;
}
/** A layer whose type is missing or invalid; nothing after it can be shaped. */
interface UnknownParams extends CommonParams {
  type: 'unknown';
}
export type LayerParams = ConvParams | LinearParams | PoolingParams | DropoutParams | UnknownParams;

/** The activation that reaches a layer, and where it comes from for messages. */
export interface Arrival {
  shape: SampleShape;
  /** The layer name, or a phrase such as `the MNIST input`, for messages. */
  from: string;
}

/** Reads the layers in source order, applying defaults; reports accepted but ignored keys as warnings. */
export function readLayers(data: Record<string, unknown>, locator: SourceLocator, diagnostics: DiagnosticList): LayerParams[] {
  const section = isMapping(data.Layers) ? data.Layers : {};
  const layers: LayerParams[] = [];
  for (const name of locator.keysInOrder(['Layers'])) {
    const path: KeyPath = ['Layers', name];
    const raw = section[name];
    const reader = new SectionReader(isMapping(raw) ? raw : {}, path, diagnostics);
    layers.push(readLayer(name, path, reader, locator, diagnostics));
  }
  return layers;
}

function readLayer(
  name: string,
  path: KeyPath,
  layer: SectionReader,
  locator: SourceLocator,
  diagnostics: DiagnosticList,
): LayerParams {
  const withDefault = <T>(key: string, fallback: T): T | undefined => (layer.has(key) ? layer.get<T>(key) : fallback);
  const pair = (key: string, fallback?: Pair): Pair | undefined => {
    const value = layer.has(key) ? layer.get<number | Pair>(key) : fallback;
    return typeof value === 'number' ? [value, value] : value;
  };

  switch (layer.get<string>('type')) {
    case 'conv':
      return {
        type: 'conv',
        name,
        path,
        inChannels: layer.get('in_channels'),
        outChannels: layer.get('out_channels'),
        kernelSize: pair('kernel_size'),
        stride: pair('stride', [1, 1]),
        padding: pair('padding', [0, 0]),
        dilation: pair('dilation', [1, 1]),
        weightScale: withDefault('weight_scale', 1),
        threshold: withDefault('threshold', 1),
      };
    case 'linear':
      return {
        type: 'linear',
        name,
        path,
        nInputs: layer.get('n_inputs'),
        nOutputs: layer.get('n_outputs'),
        weightScale: withDefault('weight_scale', 1),
        threshold: withDefault('threshold', 1),
      };
    case 'pooling': {
      if (layer.has('threshold')) {
        diagnostics.warning(
          locator.value([...path, 'threshold']),
          [...path, 'threshold'],
          'has no effect because a pooling layer has no neuron; theta sets the scale of each window sum',
        );
      }
      const kernelSize = pair('kernel_size');
      return {
        type: 'pooling',
        name,
        path,
        kernelSize,
        stride: layer.has('stride') ? pair('stride') : kernelSize,
        padding: pair('padding', [0, 0]),
        theta: withDefault('theta', DEFAULT_THETA),
      };
    }
    case 'dropout':
      return { type: 'dropout', name, path, p: withDefault('p', DEFAULT_DROPOUT_P) };
    default:
      return { type: 'unknown', name, path };
  }
}

/** Output size of one axis of a convolution or pooling window. */
export function windowOutputSize(input: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((input + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Checks one layer against the activation reaching it and returns its output shape, or null when unknown. */
export function layerOutput(
  layer: LayerParams,
  arrival: Arrival | null,
  report: ShapeReporter | null,
): SampleShape | null {
  switch (layer.type) {
    case 'conv':
      return convOutput(layer, arrival, report);
    case 'linear':
      return linearOutput(layer, arrival, report);
    case 'pooling':
      return poolingOutput(layer, arrival, report);
    case 'dropout':
      return arrival?.shape ?? null;
    case 'unknown':
      return null;
  }
}

/** Destination of shape errors: the diagnostic list and the locator for positions. */
export interface ShapeReporter {
  diagnostics: DiagnosticList;
  locator: SourceLocator;
}

function convOutput(layer: ConvParams, arrival: Arrival | null, report: ShapeReporter | null): SampleShape | null {
  const { inChannels, outChannels, kernelSize, stride, padding, dilation } = layer;
  if (arrival === null) {
    return null;
  }

  const arriving = arrival.shape[0];
  if (report !== null && inChannels !== undefined && inChannels !== arriving) {
    const channels = arriving === 1 ? '1 channel arrives' : `${arriving} channels arrive`;
    report.diagnostics.error(
      report.locator.value([...layer.path, 'in_channels']),
      [...layer.path, 'in_channels'],
      `got ${inChannels}, but ${channels} from ${arrival.from} (${formatShape(arrival.shape)}); set in_channels: ${arriving}`,
    );
  }

  if (outChannels === undefined || kernelSize === undefined || stride === undefined || padding === undefined || dilation === undefined) {
    return null;
  }
  const height = windowOutputSize(arrival.shape[1], kernelSize[0], stride[0], padding[0], dilation[0]);
  const width = windowOutputSize(arrival.shape[2], kernelSize[1], stride[1], padding[1], dilation[1]);
  if (height < 1 || width < 1) {
    report?.diagnostics.error(
      report.locator.value([...layer.path, 'kernel_size']),
      [...layer.path, 'kernel_size'],
      `output would be ${height}×${width} with ${formatShape(arrival.shape)} arriving from ${arrival.from} ` +
        `(kernel ${formatPair(kernelSize)}, stride ${formatPair(stride)}, padding ${formatPair(padding)}, dilation ${formatPair(dilation)}); ` +
        'the output must be at least 1×1, so reduce kernel_size, stride or dilation, or add padding',
    );
    return null;
  }
  return [outChannels, height, width];
}

function linearOutput(layer: LinearParams, arrival: Arrival | null, report: ShapeReporter | null): SampleShape | null {
  const { nInputs, nOutputs } = layer;
  if (arrival !== null && report !== null && nInputs !== undefined) {
    const arriving = sampleSize(arrival.shape);
    if (nInputs !== arriving) {
      report.diagnostics.error(
        report.locator.value([...layer.path, 'n_inputs']),
        [...layer.path, 'n_inputs'],
        `got ${nInputs}, expected ${arriving} = ${formatShape(arrival.shape)} from ${arrival.from}`,
      );
    }
  }
  if (arrival === null || nOutputs === undefined) {
    return null;
  }
  return [nOutputs, 1, 1];
}

function poolingOutput(layer: PoolingParams, arrival: Arrival | null, report: ShapeReporter | null): SampleShape | null {
  const { kernelSize, stride, padding } = layer;
  if (kernelSize === undefined || stride === undefined || padding === undefined) {
    return null;
  }

  // As in PyTorch's pooling, a window may not start or end in padding alone.
  if (padding[0] > kernelSize[0] / 2 || padding[1] > kernelSize[1] / 2) {
    report?.diagnostics.error(
      report.locator.value([...layer.path, 'padding']),
      [...layer.path, 'padding'],
      `must be at most half of kernel_size (${formatPair(kernelSize)}), got ${formatPair(padding)}`,
    );
    return null;
  }
  if (arrival === null) {
    return null;
  }

  const height = windowOutputSize(arrival.shape[1], kernelSize[0], stride[0], padding[0], 1);
  const width = windowOutputSize(arrival.shape[2], kernelSize[1], stride[1], padding[1], 1);
  if (height < 1 || width < 1) {
    report?.diagnostics.error(
      report.locator.value([...layer.path, 'kernel_size']),
      [...layer.path, 'kernel_size'],
      `output would be ${height}×${width} with ${formatShape(arrival.shape)} arriving from ${arrival.from} ` +
        `(kernel ${formatPair(kernelSize)}, stride ${formatPair(stride)}, padding ${formatPair(padding)}); ` +
        'the output must be at least 1×1, so reduce kernel_size or remove this pooling layer',
    );
    return null;
  }
  return [arrival.shape[0], height, width];
}

function formatPair(pair: Pair): string {
  return pair[0] === pair[1] ? `${pair[0]}` : `${pair[0]}×${pair[1]}`;
}

/**
 * Shapes every layer from the input on and reports each mismatch.
 * Returns the resolved layers, or null when some shape could not be determined, which a reported error explains.
 */
export function resolveShapes(
  layers: LayerParams[],
  input: Arrival | null,
  nClass: number | undefined,
  reporter: ShapeReporter,
): Layer[] | null {
  const resolved: Layer[] = [];
  let arrival = input;
  for (const layer of layers) {
    const outShape = layerOutput(layer, arrival, reporter);
    const built = arrival !== null && outShape !== null ? buildLayer(layer, arrival.shape, outShape) : null;
    if (built !== null) {
      resolved.push(built);
    }
    arrival = outShape === null ? null : { shape: outShape, from: layer.name };
  }

  checkOutputLayer(layers, arrival, nClass, reporter);
  return resolved.length === layers.length ? resolved : null;
}

function buildLayer(layer: LayerParams, inShape: SampleShape, outShape: SampleShape): Layer | null {
  switch (layer.type) {
    case 'conv': {
      const { inChannels, outChannels, kernelSize, stride, padding, dilation, weightScale, threshold } = layer;
      if (
        inChannels === undefined || outChannels === undefined || kernelSize === undefined || stride === undefined ||
        padding === undefined || dilation === undefined || weightScale === undefined || threshold === undefined
      ) {
        return null;
      }
      return {
        type: 'conv', name: layer.name, inShape, outShape, inChannels, outChannels, kernelSize, stride, padding, dilation,
        weightScale, threshold, weightShape: [outChannels, inChannels, kernelSize[0], kernelSize[1]],
      };
    }
    case 'linear': {
      const { nInputs, nOutputs, weightScale, threshold } = layer;
      if (nInputs === undefined || nOutputs === undefined || weightScale === undefined || threshold === undefined) {
        return null;
      }
      return {
        type: 'linear', name: layer.name, inShape, outShape, nInputs, nOutputs, weightScale, threshold,
        weightShape: [nOutputs, nInputs],
      };
    }
    case 'pooling': {
      const { kernelSize, stride, padding, theta } = layer;
      if (kernelSize === undefined || stride === undefined || padding === undefined || theta === undefined) {
        return null;
      }
      return { type: 'pooling', name: layer.name, inShape, outShape, kernelSize, stride, padding, theta };
    }
    case 'dropout':
      return layer.p === undefined ? null : { type: 'dropout', name: layer.name, inShape, outShape, p: layer.p };
    case 'unknown':
      return null;
  }
}

/** The network output is the last layer's PSP, `[n_class, 1, 1]`, so that layer must have neurons. */
function checkOutputLayer(
  layers: LayerParams[],
  output: Arrival | null,
  nClass: number | undefined,
  { diagnostics, locator }: ShapeReporter,
): void {
  const last = layers[layers.length - 1];
  if (last === undefined || last.type === 'unknown') {
    return;
  }

  if (last.type === 'pooling' || last.type === 'dropout') {
    const suggestion = output === null ? '' : ` (n_inputs: ${sampleSize(output.shape)}${nClass === undefined ? '' : `, n_outputs: ${nClass}`})`;
    diagnostics.error(
      locator.key(last.path),
      last.path,
      `the last layer must be linear or conv, because the network output is the PSP of its neurons, got a ${last.type} layer; add a linear output layer${suggestion}`,
    );
    return;
  }
  if (nClass === undefined) {
    return;
  }

  if (last.type === 'linear') {
    if (last.nOutputs !== undefined && last.nOutputs !== nClass) {
      diagnostics.error(
        locator.value([...last.path, 'n_outputs']),
        [...last.path, 'n_outputs'],
        `got ${last.nOutputs}, but Network.n_class is ${nClass}; the last layer needs one output neuron per class, so set n_outputs: ${nClass}`,
      );
    }
    return;
  }

  if (last.outChannels !== undefined && last.outChannels !== nClass) {
    diagnostics.error(
      locator.value([...last.path, 'out_channels']),
      [...last.path, 'out_channels'],
      `got ${last.outChannels}, but Network.n_class is ${nClass}; the last layer needs one output channel per class, so set out_channels: ${nClass}`,
    );
  }
  if (output !== null && (output.shape[1] !== 1 || output.shape[2] !== 1)) {
    diagnostics.error(
      locator.value([...last.path, 'kernel_size']),
      [...last.path, 'kernel_size'],
      `the last layer must output ${nClass}×1×1 (one value per class), but this conv layer outputs ${formatShape(output.shape)}; ` +
        'choose kernel_size and stride so that the output is 1×1, or add a linear output layer',
    );
  }
}
