// Runtime, backend selection: picks the gpu.js backend a generated model runs on and explains
// the choice in one line. Browser-safe, because the caller passes in the probes that need Node.

import { GPU } from 'gpu.js';

export type GpuBackend = 'cpu' | 'webasm' | 'headlessgl' | 'webgpu' | 'webgl2';
export type BackendRequest = 'auto' | GpuBackend;

/** Environment-specific probes; each returns null when the backend can load, else the reason it cannot. */
export interface BackendProbes {
  /** Makes `navigator.gpu` available if the platform can (Node needs the `webgpu` binding). */
  webgpu(): Promise<string | null>;
  headlessgl(): Promise<string | null>;
  webgl2(): Promise<string | null>;
}

export interface BackendSelection {
  gpu: GPU;
  backend: GpuBackend;
  /** One line naming the backend chosen and why the ones before it were skipped. */
  message: string;
}

/** Raised when an explicitly requested backend cannot load; its message is one line. */
export class BackendUnavailableError extends Error {
  constructor(readonly backend: string, reason: string) {
    super(`backend ${backend} is not available here: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

/** Reduces an error from a native binding to its first line. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}

async function probe(backend: GpuBackend, probes: BackendProbes): Promise<string | null> {
  switch (backend) {
    case 'webgpu': {
      const reason = await probes.webgpu();
      if (reason !== null) return reason;
      return (await GPU.isWebGPUAvailable()) ? null : 'no adapter';
    }
    case 'headlessgl': {
      const reason = await probes.headlessgl();
      if (reason !== null) return reason;
      return GPU.isHeadlessGLSupported ? null : 'no headless GL context could be created';
    }
    case 'webgl2': {
      const reason = await probes.webgl2();
      if (reason !== null) return reason;
      return GPU.isWebGL2Supported ? null : 'no WebGL2 context could be created';
    }
    case 'webasm':
      return GPU.isWebAssemblySupported ? null : 'WebAssembly is not supported';
    case 'cpu':
      return null;
  }
}

function createGpu(backend: GpuBackend): GPU {
  return new GPU({ mode: backend } as ConstructorParameters<typeof GPU>[0]);
}

/**
 * Selects a backend. `auto` tries `order` in turn (e.g. webgpu, headlessgl, webasm, cpu in Node)
 * and never throws; an explicit request that cannot load throws `BackendUnavailableError`.
 */
export async function selectBackend(request: BackendRequest, order: GpuBackend[], probes: BackendProbes): Promise<BackendSelection> {
  if (request !== 'auto') {
    const reason = await probe(request, probes);
    if (reason !== null) throw new BackendUnavailableError(request, reason);
    return { gpu: createGpu(request), backend: request, message: `backend: ${request} (requested)` };
  }

  const skipped: string[] = [];
  for (const backend of order) {
    const reason = await probe(backend, probes);
    if (reason === null) {
      const why = skipped.length > 0 ? ` (${skipped.join('; ')})` : '';
      return { gpu: createGpu(backend), backend, message: `backend: ${backend}${why}` };
    }
    skipped.push(`${backend}: ${reason}`);
  }
  return { gpu: createGpu('cpu'), backend: 'cpu', message: `backend: cpu (${skipped.join('; ')})` };
}
