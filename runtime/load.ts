// Runtime, loading (Node only): reads a generated model directory, picks the backend and opens
// an engine on it, or the plain-TypeScript reference engine for `reference`.

import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Engine } from './engine';
import { firstLine, selectBackend, type BackendProbes, type GpuBackend } from './gpu/backends';
import { createEngine, type GeneratedKernels } from './gpu/engine';
import { checkManifest, type Manifest } from './gpu/manifest';
import { createReferenceEngine } from './reference';

export type BackendChoice = 'auto' | 'cpu' | 'webasm' | 'headlessgl' | 'webgpu' | 'webgl2' | 'reference';

export interface EngineOptions {
  backend: BackendChoice;
  batchSize: number;
  log?: (line: string) => void;
  /** Time each kernel for `lastStepProfile()`; gpu.js backends only, and it turns pipelines off. */
  profile?: boolean;
}

/** Order in which `auto` tries the backends in Node. */
export const NODE_BACKEND_ORDER: GpuBackend[] = ['webgpu', 'headlessgl', 'webasm', 'cpu'];

/** Reads and checks `manifest.json` of a generated directory; errors name the directory and the fix. */
export function readManifest(generatedDir: string): Manifest {
  const file = path.join(generatedDir, 'manifest.json');
  if (!existsSync(file)) {
    throw new Error(`${generatedDir}: no compiled model here (manifest.json is missing); run \`snnc compile SPEC\` to generate it`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: manifest is not valid JSON (${firstLine(error)}); run \`snnc compile SPEC\` to regenerate it`);
  }
  return checkManifest(parsed, file);
}

const require = createRequire(import.meta.url);

let webgpuProvided = false;

/** Probes of the backends that need something beyond gpu.js in Node. */
export const nodeProbes: BackendProbes = {
  async webgpu() {
    if (webgpuProvided) return null;
    try {
      const binding = (await import('webgpu')) as { create(flags: string[]): unknown; globals: Record<string, unknown> };
      Object.assign(globalThis, binding.globals);
      // NOTE: a live Dawn instance on `navigator` keeps Node running until it is removed.
      Object.defineProperty(globalThis, 'navigator', { value: { gpu: binding.create([]) }, configurable: true, writable: true });
      webgpuProvided = true;
      return null;
    } catch (error) {
      // The native binding's message starts with a library path; the version that is missing is what matters.
      const reason = firstLine(error).replace(/\s*\(required by [^)]*\)/, '').replace(/^\S+: /, '');
      return `the 'webgpu' binding failed to load (${reason})`;
    }
  },
  async headlessgl() {
    try {
      require.resolve('gl');
      return null;
    } catch {
      return "the optional 'gl' package is not installed";
    }
  },
  async webgl2() {
    return 'WebGL2 needs a browser; Node has no WebGL2 context';
  },
};

async function loadKernels(generatedDir: string): Promise<GeneratedKernels> {
  const file = path.join(generatedDir, 'kernels.js');
  if (!existsSync(file)) throw new Error(`${generatedDir}: kernels.js is missing; run \`snnc compile SPEC\` to regenerate it`);
  // Imported from its text, not its path: next to kernels.ts a TypeScript loader such as tsx would
  // resolve kernels.js to the .ts file, and a folder without "type": "module" would read it as CommonJS.
  const text = readFileSync(file, 'utf8');
  const module = (await import(`data:text/javascript;base64,${Buffer.from(text).toString('base64')}`)) as { kernels?: GeneratedKernels };
  return module.kernels ?? (module as GeneratedKernels);
}

/** Opens an engine on the model compiled into `generatedDir`. */
export async function openEngine(generatedDir: string, options: EngineOptions): Promise<Engine> {
  const manifest = readManifest(generatedDir);
  const log = options.log ?? (() => {});
  if (options.backend === 'reference') {
    log('backend: reference (plain TypeScript, float64 arithmetic)');
    return createReferenceEngine(manifest.network);
  }

  const kernels = await loadKernels(generatedDir);
  const selection = await selectBackend(options.backend, NODE_BACKEND_ORDER, nodeProbes);
  log(selection.message);
  return createEngine(manifest, kernels, { gpu: selection.gpu, backend: selection.backend, batchSize: options.batchSize, profile: options.profile, log: options.log });
}
