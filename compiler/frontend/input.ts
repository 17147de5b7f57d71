// Front end, stage 4: the input shape and encoding, from the caller, the spec, the dataset name, or the layers.

import type { InputEncoding, SampleShape } from '../../common/network';
import { sampleSize } from '../../common/network';
import { describeValue, DiagnosticList, formatShape, nearestName } from './diagnostics';
import type { SourceLocator } from './parse';
import type { Settings } from './settings';
import { layerOutput, type Arrival, type LayerParams } from './shapes';

interface DatasetInfo {
  shape: SampleShape;
  encoding: InputEncoding;
}

/** Datasets that snnc recognises by name, keyed by the canonical name carried into `Network.dataset`. */
export const DATASETS: Record<string, DatasetInfo> = {
  MNIST: { shape: [1, 28, 28], encoding: 'static' },
  FashionMNIST: { shape: [1, 28, 28], encoding: 'static' },
  CIFAR10: { shape: [3, 32, 32], encoding: 'static' },
  NMNIST: { shape: [2, 34, 34], encoding: 'events' },
};

/** Other spellings of the names above, after lower-casing and dropping `-`, `_` and spaces. */
const DATASET_ALIASES: Record<string, string> = {
  mnist: 'MNIST',
  fashionmnist: 'FashionMNIST',
  cifar10: 'CIFAR10',
  nmnist: 'NMNIST',
  nmnistspiking: 'NMNIST',
};

/** Largest square input side tried when inferring the input shape from the layers. */
const MAX_INFERRED_SIDE = 1024;

/** Returns the canonical name of a known dataset spelling such as `Fashion-MNIST` or `NMNIST_Spiking`, else null. */
export function canonicalDataset(name: string): string | null {
  return DATASET_ALIASES[name.toLowerCase().replace(/[-_ ]/g, '')] ?? null;
}

export interface ResolvedInput {
  arrival: Arrival | null;
  encoding: InputEncoding;
  /** Canonical dataset name for known datasets, the spec's text otherwise. */
  dataset: string | null;
}

/**
 * Picks the input shape: the caller's option first, then `Network.input_shape`, then the dataset,
 * and otherwise the shape inferred from the first layers (reported as a warning).
 */
export function resolveInput(
  settings: Settings,
  layers: LayerParams[],
  optionShape: SampleShape | undefined,
  locator: SourceLocator,
  diagnostics: DiagnosticList,
): ResolvedInput {
  const known = settings.dataset === null ? null : canonicalDataset(settings.dataset);
  const info = known === null ? null : DATASETS[known];
  const dataset = known ?? settings.dataset;
  const encoding = settings.inputEncoding ?? info?.encoding ?? 'static';

  if (settings.dataset !== null && known === null) {
    const suggestion = nearestName(settings.dataset, Object.keys(DATASETS));
    const hint = suggestion === null ? '' : ` (did you mean '${suggestion}'?)`;
    const fallback = settings.inputShape === undefined ? '; the input shape is taken from the layers instead, or set Network.input_shape' : '';
    diagnostics.warning(
      locator.value(['Network', 'dataset']),
      ['Network', 'dataset'],
      `unknown dataset ${describeValue(settings.dataset)}${hint}; known datasets: ${Object.keys(DATASETS).join(', ')}${fallback}`,
    );
  }

  if (optionShape !== undefined) {
    return { arrival: { shape: optionShape, from: 'the input set by the input shape option' }, encoding, dataset };
  }
  if (settings.inputShape !== undefined) {
    if (info !== null && known !== null && formatShape(info.shape) !== formatShape(settings.inputShape)) {
      diagnostics.warning(
        locator.value(['Network', 'input_shape']),
        ['Network', 'input_shape'],
        `${describeValue(settings.inputShape)} overrides the ${known} image shape ${formatShape(info.shape)}; the data must arrive as ${formatShape(settings.inputShape)}`,
      );
    }
    return { arrival: { shape: settings.inputShape, from: 'the input set by Network.input_shape' }, encoding, dataset };
  }
  if (info !== null) {
    return { arrival: { shape: info.shape, from: `the ${known} input` }, encoding, dataset };
  }
  if (settings.inputKeysInvalid) {
    return { arrival: null, encoding, dataset };
  }

  const inferred = inferInputShape(layers, settings.nClass);
  if (inferred.shape !== null) {
    diagnostics.warning(
      locator.key(['Network']),
      ['Network', 'input_shape'],
      `input shape inferred as ${formatShape(inferred.shape)} ${inferred.reason}; set Network.input_shape to fix it`,
    );
    return { arrival: { shape: inferred.shape, from: 'the inferred input' }, encoding, dataset };
  }
  if (inferred.reason !== '') {
    diagnostics.error(
      locator.key(['Network']),
      ['Network', 'input_shape'],
      `missing input shape: ${inferred.reason}; set Network.input_shape: [channels, height, width] or a known dataset (${Object.keys(DATASETS).join(', ')})`,
    );
  }
  return { arrival: null, encoding, dataset };
}

/**
 * Infers `[c, h, w]` from the layers. A linear first layer gives `[n_inputs, 1, 1]`.
 * A conv first layer gives `[in_channels, H, H]` with the smallest H for which the first linear
 * layer's `n_inputs` matches what arrives there, or for which the last layer outputs 1×1 when
 * there is no linear layer. The shape is null, with an empty reason, when earlier errors leave
 * too little to go on.
 */
function inferInputShape(layers: LayerParams[], nClass: number | undefined): { shape: SampleShape | null; reason: string } {
  const firstSynapse = layers.findIndex((layer) => layer.type === 'conv' || layer.type === 'linear');
  const first = layers[firstSynapse];
  if (first === undefined) {
    // Without a conv or linear layer the last-layer check already reports the problem.
    return { shape: null, reason: '' };
  }
  const before = layers.slice(0, firstSynapse);
  if (before.some((layer) => layer.type === 'unknown')) {
    return { shape: null, reason: '' };
  }

  if (first.type === 'linear') {
    if (first.nInputs === undefined) {
      return { shape: null, reason: '' };
    }
    if (before.some((layer) => layer.type === 'pooling')) {
      return { shape: null, reason: `the pooling before ${first.name} leaves the image size open` };
    }
    return { shape: [first.nInputs, 1, 1], reason: `from ${first.name}.n_inputs` };
  }
  if (first.type !== 'conv' || first.inChannels === undefined) {
    return { shape: null, reason: '' };
  }

  const linearIndex = layers.findIndex((layer) => layer.type === 'linear');
  const target = layers[linearIndex];
  const shaped = linearIndex === -1 ? layers : layers.slice(0, linearIndex);
  if (!shaped.every(isShapeable) || (target?.type === 'linear' && target.nInputs === undefined)) {
    return { shape: null, reason: '' };
  }

  for (let side = 1; side <= MAX_INFERRED_SIDE; side++) {
    const candidate: SampleShape = [first.inChannels, side, side];
    const output = shapeThrough(shaped, candidate);
    if (output === null) {
      continue;
    }
    const fits =
      target?.type === 'linear'
        ? sampleSize(output) === target.nInputs
        : output[1] === 1 && output[2] === 1 && (nClass === undefined || output[0] === nClass);
    if (fits) {
      const reason =
        target?.type === 'linear'
          ? `(the smallest square image for which ${target.name}.n_inputs = ${target.nInputs} matches ${formatShape(output)})`
          : '(the smallest square image for which the last layer outputs 1×1)';
      return { shape: candidate, reason };
    }
  }

  const goal =
    target?.type === 'linear'
      ? `no square image from 1×1 to ${MAX_INFERRED_SIDE}×${MAX_INFERRED_SIDE} with ${first.inChannels} channels gives ${target.name}.n_inputs = ${target.nInputs}`
      : `no square image from 1×1 to ${MAX_INFERRED_SIDE}×${MAX_INFERRED_SIDE} makes the last layer output 1×1`;
  return { shape: null, reason: goal };
}

/** Tells whether a layer's output shape can be computed, because none of the fields it needs was invalid. */
function isShapeable(layer: LayerParams): boolean {
  switch (layer.type) {
    case 'conv':
      return [layer.outChannels, layer.kernelSize, layer.stride, layer.padding, layer.dilation].every((v) => v !== undefined);
    case 'pooling':
      return [layer.kernelSize, layer.stride, layer.padding].every((v) => v !== undefined);
    case 'linear':
      return layer.nOutputs !== undefined;
    case 'dropout':
      return true;
    case 'unknown':
      return false;
  }
}

function shapeThrough(layers: LayerParams[], input: SampleShape): SampleShape | null {
  let arrival: Arrival | null = { shape: input, from: '' };
  for (const layer of layers) {
    const shape = layerOutput(layer, arrival, null);
    if (shape === null) {
      return null;
    }
    arrival = { shape, from: layer.name };
  }
  return arrival?.shape ?? null;
}
