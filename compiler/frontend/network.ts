// Front end, stage 6: the checked settings and layers assembled into a `Network`, with its spec hash.

import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Layer, LossKind, Network } from '../../common/network';
import type { ResolvedInput } from './input';
import type { Settings } from './settings';

/** Settings that are known to be valid once no error was reported. */
type CheckedSettings = Required<Pick<Settings, 'nSteps' | 'tauM' | 'tauS' | 'loss' | 'nClass' | 'batchSize' | 'lr' | 'epochs'>> &
  Settings;

/** Builds the `Network`; call it only when no error was reported, so every required value is present. */
export function assembleNetwork(file: string, settings: Settings, input: ResolvedInput, layers: Layer[]): Network {
  const checked = requireSettings(settings);
  if (input.arrival === null) {
    throw new Error(`internal error: no input shape for ${file} although no error was reported`);
  }

  const network: Network = {
    name: path.basename(file).replace(/\.[^.]*$/, ''),
    specFile: file,
    specHash: '',
    nSteps: checked.nSteps,
    tauM: checked.tauM,
    tauS: checked.tauS,
    loss: checked.loss,
    nClass: checked.nClass,
    desiredCount: settings.desiredCount ?? 0,
    undesiredCount: settings.undesiredCount ?? 0,
    batchSize: checked.batchSize,
    lr: checked.lr,
    epochs: checked.epochs,
    dataset: input.dataset,
    dataPath: settings.dataPath,
    inputEncoding: input.encoding,
    inputShape: input.arrival.shape,
    layers,
  };
  network.specHash = specHash(network);
  return network;
}

function requireSettings(settings: Settings): CheckedSettings {
  const required = ['nSteps', 'tauM', 'tauS', 'loss', 'nClass', 'batchSize', 'lr', 'epochs'] as const;
  for (const key of required) {
    if (settings[key] === undefined) {
      throw new Error(`internal error: Network setting ${key} is missing although no error was reported`);
    }
  }
  return settings as CheckedSettings;
}

/**
 * SHA-256 (hex) of the fields that define what the network computes: layers, time steps, time
 * constants, loss, class count, input shape and encoding. The counts enter only for loss 'count',
 * the only loss that reads them; training settings (batch size, lr, epochs, paths) do not enter.
 */
export function specHash(network: Network): string {
  const countsMatter = network.loss === ('count' satisfies LossKind);
  const defining = {
    layers: network.layers,
    nSteps: network.nSteps,
    tauM: network.tauM,
    tauS: network.tauS,
    loss: network.loss,
    desiredCount: countsMatter ? network.desiredCount : null,
    undesiredCount: countsMatter ? network.undesiredCount : null,
    nClass: network.nClass,
    inputShape: network.inputShape,
    inputEncoding: network.inputEncoding,
  };
  return createHash('sha256').update(canonicalJson(defining)).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
