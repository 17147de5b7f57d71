// Test page: runs two plain gpu.js kernels (an element-wise sum and a prefix sum) on one
// backend and reports the values and the backend that ran them.

import { GPU, type IKernelFunctionThis } from 'gpu.js';
import { describeKernel, type KernelBackend } from './backend';

export interface SumResult {
  elementwise: number[];
  prefix: number[];
  kernels: KernelBackend[];
  milliseconds: number;
}

interface PrefixThis extends IKernelFunctionThis {
  constants: { n: number };
}

async function runSums(mode: string, a: number[], b: number[]): Promise<SumResult> {
  const start = performance.now();
  const gpu = new GPU({ mode: mode as 'webgl2' });
  const n = a.length;

  const add = gpu.createKernel(function (this: IKernelFunctionThis, x: number[], y: number[]) {
    return x[this.thread.x] + y[this.thread.x];
  }, { output: [n] });

  // The loop bound is a constant because GLSL ES loops need one, so a branch stops at thread.x.
  const prefix = gpu.createKernel(function (this: PrefixThis, x: number[]) {
    let total = 0;
    for (let i = 0; i < this.constants.n; i++) {
      if (i <= this.thread.x) total += x[i];
    }
    return total;
  }, { output: [n], constants: { n } });

  const elementwise = (await add(a, b)) as Float32Array;
  const prefixSums = (await prefix(a)) as Float32Array;
  const result = {
    elementwise: Array.from(elementwise),
    prefix: Array.from(prefixSums),
    kernels: [describeKernel(add.kernel), describeKernel(prefix.kernel)],
    milliseconds: performance.now() - start,
  };
  await gpu.destroy();
  return result;
}

// uvu also imports this file in Node because it loads every module under test/, so register only in a page.
if (typeof window !== 'undefined') (globalThis as unknown as { snncPage: object }).snncPage = { runSums };
