// Test support: loads the reference-vector cases and builds each case's `Network` from its
// YAML spec and the case's input shape.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Layer, LossKind, Network, Pair, SampleShape } from '../../common/network';
import { parseGolden, type GoldenCase } from '../../runtime/golden';
import { buildConv, buildDropout, buildLinear, buildNetwork, buildPooling } from './network-builder';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const goldenDir = path.resolve(repoRoot, '..', 'shared', 'golden');

export interface LoadedGoldenCase {
  file: string;
  golden: GoldenCase;
  network: Network;
}

/** Loads every `*.json` case of the reference vectors with the network of its spec. */
export function loadGoldenCases(): LoadedGoldenCase[] {
  const files = readdirSync(goldenDir)
    .filter((file) => file.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const golden = parseGolden(file, readFileSync(path.join(goldenDir, file), 'utf8'));
    const specFile = path.join(goldenDir, 'specs', golden.spec);
    const network = networkFromSpec(specFile, readFileSync(specFile, 'utf8'), golden.inputShape);
    return { file, golden, network };
  });
}

type SpecValue = number | [number, number] | undefined;

function pair(value: SpecValue, fallback: Pair): Pair {
  if (value === undefined) return fallback;
  return Array.isArray(value) ? [value[0], value[1]] : [value, value];
}

/**
 * Builds a `Network` from a TSSL-BP YAML spec (top-level `Network:` and `Layers:`) for the
 * given input shape. Covers the keys the reference-vector specs use and checks nothing else.
 */
export function networkFromSpec(specFile: string, text: string, inputShape: SampleShape): Network {
  const spec = parse(text) as { Network: Record<string, unknown>; Layers: Record<string, Record<string, unknown>> };
  const settings = spec.Network;
  const layers: Layer[] = [];
  let shape = inputShape;

  for (const [name, entry] of Object.entries(spec.Layers)) {
    let layer: Layer;
    switch (entry.type) {
      case 'conv':
        layer = buildConv(name, shape, {
          outChannels: entry.out_channels as number,
          kernelSize: pair(entry.kernel_size as SpecValue, [1, 1]),
          stride: pair(entry.stride as SpecValue, [1, 1]),
          padding: pair(entry.padding as SpecValue, [0, 0]),
          dilation: pair(entry.dilation as SpecValue, [1, 1]),
          weightScale: (entry.weight_scale as number | undefined) ?? 1,
          threshold: entry.threshold as number,
        });
        break;
      case 'linear':
        layer = buildLinear(name, shape, {
          nOutputs: entry.n_outputs as number,
          weightScale: (entry.weight_scale as number | undefined) ?? 1,
          threshold: entry.threshold as number,
        });
        break;
      case 'pooling': {
        const kernelSize = pair(entry.kernel_size as SpecValue, [1, 1]);
        layer = buildPooling(name, shape, {
          kernelSize,
          stride: pair(entry.stride as SpecValue, kernelSize),
          padding: pair(entry.padding as SpecValue, [0, 0]),
          theta: (entry.theta as number | undefined) ?? 1.1,
        });
        break;
      }
      case 'dropout':
        layer = buildDropout(name, shape, (entry.p as number | undefined) ?? 0.5);
        break;
      default:
        throw new Error(`${specFile}: layer '${name}' has unknown type '${String(entry.type)}'`);
    }
    layers.push(layer);
    shape = layer.outShape;
  }

  return buildNetwork(
    {
      name: path.basename(specFile, '.yaml'),
      nSteps: settings.n_steps as number,
      tauM: settings.tau_m as number,
      tauS: settings.tau_s as number,
      loss: settings.loss as LossKind,
      nClass: settings.n_class as number,
      desiredCount: settings.desired_count as number,
      undesiredCount: settings.undesired_count as number,
      batchSize: settings.batch_size as number,
      lr: settings.lr as number,
      inputShape,
    },
    layers,
  );
}
