// Test support for the trainer: a tiny network, a synthetic data set, engine wrappers that
// fail or interrupt on a chosen step, and fake command dependencies.

import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Network, SampleShape } from '../../common/network';
import type { DataSplit, Dataset } from '../../runtime/data';
import { NonFiniteError, type Batch, type Engine, type PassOptions, type StepResult } from '../../runtime/engine';
import { createReferenceEngine } from '../../runtime/reference';
import { Rng } from '../../runtime/rng';
import type { CommandDependencies, CommandOutput } from '../../bin/commands/run';
import { buildConv, buildDropout, buildLinear, buildNetwork } from '../support/network-builder';

/** conv 1→2 (2×2) on a 1×3×3 input, dropout 0.3, linear 8→3; T = 5, kernel loss. */
export function tinyNetwork(name = 'tiny', specHash = `hash-of-${name}`): Network {
  const conv = buildConv('conv_1', [1, 3, 3], { outChannels: 2, kernelSize: [2, 2], weightScale: 3, threshold: 0.5 });
  const dropout = buildDropout('dropout_1', conv.outShape, 0.3);
  const output = buildLinear('output', conv.outShape, { nOutputs: 3, weightScale: 2, threshold: 0.5 });
  const network = buildNetwork(
    { name, nSteps: 5, tauM: 5, tauS: 3, loss: 'kernel', nClass: 3, batchSize: 4, lr: 0.01, inputShape: [1, 3, 3] },
    [conv, dropout, output],
  );
  return { ...network, specHash, epochs: 2 };
}

/**
 * A synthetic static-image data set: sample `i` has class `i mod nClass`, a bright pixel at
 * its class's position plus seeded noise. With `augment`, each pixel gets extra noise drawn
 * from it, so that augmentation changes the weights a run reaches.
 */
export class PatternDataset implements Dataset {
  readonly sampleShape: SampleShape = [1, 3, 3];
  readonly encoding = 'static' as const;
  readonly nClass = 3;

  constructor(
    readonly name: string,
    readonly length: number,
    private readonly seed: number,
  ) {}

  label(index: number): number {
    return index % this.nClass;
  }

  write(index: number, out: Float32Array, offset: number, augment?: Rng): void {
    const noise = new Rng(this.seed * 100003 + index);
    for (let pixel = 0; pixel < 9; pixel++) {
      const bright = pixel === this.label(index) * 3 + 1 ? 2 : 0;
      out[offset + pixel] = bright + 0.3 * noise.normal() + (augment ? 0.2 * augment.uniform() : 0);
    }
  }
}

export function patternData(trainSize = 24, testSize = 12): DataSplit {
  return {
    train: new PatternDataset('pattern train', trainSize, 1),
    test: new PatternDataset('pattern test', testSize, 2),
    description: `data: synthetic patterns (${trainSize} train, ${testSize} test)`,
  };
}

/** Delegates everything to `engine` except `trainStep`. */
function withTrainStep(engine: Engine, trainStep: Engine['trainStep']): Engine {
  return {
    network: engine.network,
    backend: engine.backend,
    getWeights: () => engine.getWeights(),
    setWeights: (weights) => engine.setWeights(weights),
    getOptimizerState: () => engine.getOptimizerState(),
    setOptimizerState: (state) => engine.setOptimizerState(state),
    forwardBackward: (batch, options) => engine.forwardBackward(batch, options),
    trainStep,
    forward: (batch) => engine.forward(batch),
    dispose: () => engine.dispose(),
  };
}

/** Wraps an engine so that training step `failAt` (1-based) throws `NonFiniteError` for `layer`. */
export function failingEngine(engine: Engine, failAt: number, layer: string): Engine {
  let steps = 0;
  return withTrainStep(engine, async (batch: Batch, lr: number, options?: PassOptions): Promise<StepResult> => {
    steps++;
    if (steps === failAt) throw new NonFiniteError(layer, Number.NaN);
    return engine.trainStep(batch, lr, options);
  });
}

/** Wraps an engine so that `controller` aborts during training step `abortAt` (1-based), as Ctrl-C would. */
export function interruptingEngine(engine: Engine, abortAt: number, controller: AbortController): Engine {
  let steps = 0;
  return withTrainStep(engine, async (batch: Batch, lr: number, options?: PassOptions): Promise<StepResult> => {
    steps++;
    const result = await engine.trainStep(batch, lr, options);
    if (steps === abortAt) controller.abort();
    return result;
  });
}

export function referenceEngine(network: Network): Engine {
  return createReferenceEngine(network, { seed: 0 });
}

export function temporaryDirectory(prefix = 'snnc-train-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a generated directory holding only manifest.json, which the fake `readManifest` reads. */
export function writeGeneratedDir(network: Network): string {
  const dir = join(temporaryDirectory('snnc-generated-'), network.name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ network }));
  return dir;
}

export interface FakeDependencies extends CommandDependencies {
  enginesOpened: number;
}

/** Command dependencies backed by the reference engine and the synthetic patterns. */
export function fakeDependencies(network: Network, data: DataSplit = patternData()): FakeDependencies {
  const dependencies: FakeDependencies = {
    enginesOpened: 0,
    readManifest: () => ({ network }),
    openEngine: async (_dir, _options) => {
      dependencies.enginesOpened++;
      return referenceEngine(network);
    },
    openData: async () => data,
  };
  return dependencies;
}

export interface CapturedOutput extends CommandOutput {
  lines: string[];
  errors: string[];
}

export function captureOutput(): CapturedOutput {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, log: (line) => lines.push(line), error: (line) => errors.push(line), progressStream: null };
}
