// Runtime, webasm flat results: lets a kernel the engine built on gpu.js's WebAssembly backend
// return its output as the one Float32Array that gpu.js copies out of memory, instead of rows.
//
// gpu.js 2.24.1 shapes the output of a kernel on an [x, y, z] thread grid into z arrays of y
// rows, each a Float32Array view of x values, and the engine joins them again. On the grids
// whose x axis is one SIMD step (4 cells), an MNIST batch gives about 250,000 rows per kernel:
// building them took about 55 ms per call, and joining them as long again. Pipelines read their
// results through the same method, so they return flat outputs too.
//
// NOTE: this relies on WebAssemblyKernel.prototype._shapeOutput and on the `kernel` property of
// the function gpu.js's createKernel returns, both internal to gpu.js 2.24.1. Without them the
// kernels keep returning rows, which the engine joins as before.

import * as gpujs from 'gpu.js';

type ShapeOutput = (this: KernelInstance, data: Float32Array, output: number[], componentCount: number) => unknown;

interface KernelInstance {
  [FLAT]?: boolean;
}

const FLAT = Symbol.for('snnc.webasm-flat-results');
const INSTALLED = Symbol.for('snnc.webasm-flat-results.installed');

/** Installs the override once per process. Returns false when this gpu.js lacks what it patches. */
function install(): boolean {
  const kernelClass = (gpujs as unknown as Record<string, { prototype: Record<string | symbol, unknown> } | undefined>).WebAssemblyKernel;
  const proto = kernelClass?.prototype;
  if (proto === undefined || typeof proto._shapeOutput !== 'function') return false;
  if (proto[INSTALLED] === true) return true;
  const shapeOutput = proto._shapeOutput as ShapeOutput;
  proto._shapeOutput = function (this: KernelInstance, data: Float32Array, output: number[], componentCount: number): unknown {
    if (this[FLAT] === true && componentCount === 1) return data;
    return shapeOutput.call(this, data, output, componentCount);
  };
  proto[INSTALLED] = true;
  return true;
}

/**
 * Makes the webasm kernel behind `built` (what gpu.js's createKernel returned) return flat
 * outputs. Returns false, and changes nothing, where this gpu.js does not allow it.
 */
export function returnFlatResults(built: unknown): boolean {
  const kernel = (built as { kernel?: KernelInstance } | null)?.kernel;
  if (kernel === undefined || kernel === null || !install()) return false;
  kernel[FLAT] = true;
  return true;
}
