// Test page: runs one forward and backward pass of a compiled model with the runtime's gpu.js
// engine on one backend, and returns what the pass produced with the backend that ran it.

import { GPU } from 'gpu.js';
import { selectBackend, type BackendProbes, type GpuBackend } from '../../../runtime/gpu/backends';
import { createEngine, type GeneratedKernels } from '../../../runtime/gpu/engine';
import { checkManifest } from '../../../runtime/gpu/manifest';
import { describeKernels, type KernelBackend } from './backend';

/** A compiled model as the bundle imports it: the parsed manifest.json and kernels.js's exports. */
export interface BundledModel {
  manifest: unknown;
  kernels: GeneratedKernels;
}

/** One batch and the weights to load, as plain arrays so they pass through `page.evaluate`. */
export interface GoldenPassInput {
  batch: number;
  images: number[];
  labels: number[];
  weights: Record<string, number[]>;
}

export interface GoldenPassOutput {
  /** Backend name the engine reports. */
  engineBackend: string;
  /** Every kernel the engine's `GPU` instance created, with the backend class that ran it. */
  kernels: KernelBackend[];
  loss: number;
  activations: Record<string, number[]>;
  weightGrads: Record<string, number[]>;
  /** Wall-clock time of engine creation, the pass and the readback, in the page. */
  milliseconds: number;
}

// A page needs no binding loaded, so these probes only rule out headless GL. selectBackend's
// own checks (a WebGPU adapter, a WebGL2 context) still decide.
const browserProbes: BackendProbes = {
  async webgpu() {
    return typeof navigator !== 'undefined' && 'gpu' in navigator ? null : 'navigator.gpu is missing';
  },
  async headlessgl() {
    return 'headless GL exists only in Node';
  },
  async webgl2() {
    return null;
  },
};

function toPlain(tensors: Record<string, Float32Array>): Record<string, number[]> {
  const plain: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(tensors)) plain[name] = Array.from(values);
  return plain;
}

async function runGoldenPass(models: Record<string, BundledModel>, name: string, mode: GpuBackend, input: GoldenPassInput): Promise<GoldenPassOutput> {
  const model = models[name];
  if (model === undefined) throw new Error(`model '${name}' is not in this page's bundle`);
  const start = performance.now();

  const manifest = checkManifest(model.manifest, `${name}/manifest.json`);
  const selection = await selectBackend(mode, [], browserProbes);
  const engine = await createEngine(manifest, model.kernels, { gpu: selection.gpu, backend: selection.backend, batchSize: input.batch });
  const weights: Record<string, Float32Array> = {};
  for (const [layer, values] of Object.entries(input.weights)) weights[layer] = Float32Array.from(values);
  engine.setWeights(weights);

  const result = await engine.forwardBackward(
    { size: input.batch, input: Float32Array.from(input.images), labels: Int32Array.from(input.labels) },
    { keepActivations: true },
  );
  // Read the kernel classes before dispose, which destroys the kernels.
  const output: GoldenPassOutput = {
    engineBackend: engine.backend,
    kernels: describeKernels(selection.gpu as GPU),
    loss: result.loss,
    activations: toPlain(result.activations ?? {}),
    weightGrads: toPlain(result.weightGrads),
    milliseconds: performance.now() - start,
  };
  engine.dispose();
  return output;
}

/** Registers `runGoldenPass(name, mode, input)` on `globalThis.snncPage` for the given models. */
export function registerGoldenPage(models: Record<string, BundledModel>): void {
  // uvu also imports this file in Node because it loads every module under test/, so register only in a page.
  if (typeof window === 'undefined') return;
  (globalThis as unknown as { snncPage: object }).snncPage = {
    runGoldenPass: (name: string, mode: GpuBackend, input: GoldenPassInput) => runGoldenPass(models, name, mode, input),
  };
}
