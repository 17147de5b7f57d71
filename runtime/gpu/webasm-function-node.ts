// Runtime, webasm overrides: finds the prototype of gpu.js's WebAssemblyFunctionNode that
// snnc's code-generation overrides patch, or the reason it cannot be patched, and installs them.

import * as gpujs from 'gpu.js';

/** A function-node class as gpu.js exports it. Only its prototype is read and patched. */
export interface FunctionNodeClass {
  prototype: Record<string | symbol, unknown>;
}

/** The prototype to patch, `installed` when the override is on it already, or why it cannot be patched. */
export type OverrideTarget = { proto: Record<string | symbol, unknown> } | { installed: true } | { reason: string };

/**
 * Finds the prototype of `functionNode` (default: gpu.js's WebAssemblyFunctionNode) to patch. It
 * is returned when it has every method in `required` and no `marker` yet.
 */
function overrideTarget(functionNode: FunctionNodeClass | undefined, required: string[], marker: symbol): OverrideTarget {
  const target = functionNode ?? ((gpujs as unknown as Record<string, unknown>).WebAssemblyFunctionNode as FunctionNodeClass | undefined);
  if (target === undefined) return { reason: 'this gpu.js exports no WebAssemblyFunctionNode' };
  const proto = target.prototype;
  if (proto[marker] === true) return { installed: true };
  const missing = required.filter((name) => typeof proto[name] !== 'function');
  if (missing.length > 0) return { reason: `gpu.js's WebAssemblyFunctionNode has no ${missing.join(', ')}` };
  return { proto };
}

/**
 * Installs an override on `functionNode` (default: gpu.js's WebAssemblyFunctionNode) once per
 * process: `patch` changes the prototype, which is then marked with `marker`. Returns null when
 * the override is in place, else the reason it cannot be installed.
 */
export function installOverride(
  functionNode: FunctionNodeClass | undefined,
  required: string[],
  marker: symbol,
  patch: (proto: Record<string | symbol, unknown>) => void,
): string | null {
  const target = overrideTarget(functionNode, required, marker);
  if ('reason' in target) return target.reason;
  if ('proto' in target) {
    patch(target.proto);
    target.proto[marker] = true;
  }
  return null;
}
