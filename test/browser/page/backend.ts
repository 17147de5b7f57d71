// Test page support: names the gpu.js backend class that really ran a kernel, so a silent
// fallback to the cpu backend shows up in the test results.

import * as gpujs from 'gpu.js';

/** The gpu.js kernel classes by backend name. WebGPUKernel is missing from gpu.js's typings. */
const kernelClasses: Record<string, unknown> = {
  webgpu: (gpujs as unknown as Record<string, unknown>).WebGPUKernel,
  webgl2: gpujs.WebGL2Kernel,
  webgl: gpujs.WebGLKernel,
  webasm: gpujs.WebAssemblyKernel,
  cpu: gpujs.CPUKernel,
};

/** What ran one gpu.js kernel object. */
export interface KernelBackend {
  /** Backend name of the kernel's exact class, or `unknown <class name>`. */
  backend: string;
  /** True when the kernel asked gpu.js to replace it with a cpu kernel. */
  fallbackRequested: boolean;
  fallbackReason: string | null;
}

/** Reads the backend of a gpu.js `Kernel` object (a run shortcut's `.kernel`). */
export function describeKernel(kernel: object): KernelBackend {
  const state = kernel as { constructor: unknown; fallbackRequested?: boolean; fallbackReason?: string | null };
  const match = Object.entries(kernelClasses).find(([, kernelClass]) => kernelClass === state.constructor);
  return {
    backend: match ? match[0] : `unknown ${(state.constructor as { name?: string }).name ?? 'class'}`,
    fallbackRequested: state.fallbackRequested === true,
    fallbackReason: state.fallbackReason ?? null,
  };
}

/** Describes every kernel a `GPU` instance has created (gpu.js keeps them in `gpu.kernels`). */
export function describeKernels(gpu: gpujs.GPU): KernelBackend[] {
  const kernels = (gpu as unknown as { kernels?: object[] }).kernels ?? [];
  return kernels.map(describeKernel);
}
