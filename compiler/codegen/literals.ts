// Code generation, literals and index arithmetic: how baked constants and thread-index
// decompositions are written into kernel source so that every gpu.js backend types them right.

/**
 * Writes a float constant with a decimal point, such as `1.0`, `0.2` or `1.0e-8`, so gpu.js
 * types it as a float. A bare `1` would be an integer literal on the typed backends.
 */
export function float(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`codegen: cannot bake the non-finite constant ${value}`);
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return `${value}.0`;
  const text = String(value);
  if (text.includes('e') && !text.includes('.')) return text.replace('e', '.0e');
  return text;
}

/** Writes an integer constant (an index, a size or a loop bound). */
export function int(value: number): string {
  if (!Number.isInteger(value)) throw new Error(`codegen: index constant ${value} is not an integer`);
  return String(value);
}

/** One axis of a thread-index decomposition, fastest first. */
export interface IndexAxis {
  name: string;
  size: number;
}

/**
 * Emits statements that split the flat `index` into named coordinates, fastest axis first;
 * the last axis takes the remaining quotient. WebAssembly and the GL backends divide in
 * float32, which is inexact past 2^24, so each step takes the float quotient, converts it to
 * an integer and corrects it by one either way using exact integer remainders.
 */
export function decomposeIndex(index: string, axes: IndexAxis[], last: string): string[] {
  const lines: string[] = [];
  let rest = index;
  axes.forEach((axis, position) => {
    const quotient = position === axes.length - 1 ? last : `rest${position}`;
    if (axis.size === 1) {
      lines.push(`const ${axis.name} = 0;`, `const ${quotient} = ${rest};`);
      rest = quotient;
      return;
    }
    lines.push(
      `let ${quotient} = Math.floor(${rest} / ${int(axis.size)}) | 0;`,
      `let ${axis.name} = ${rest} - ${quotient} * ${int(axis.size)};`,
      `if (${axis.name} < 0) { ${quotient} = ${quotient} - 1; ${axis.name} = ${axis.name} + ${int(axis.size)}; }`,
      `if (${axis.name} >= ${int(axis.size)}) { ${quotient} = ${quotient} + 1; ${axis.name} = ${axis.name} - ${int(axis.size)}; }`,
    );
    rest = quotient;
  });
  if (axes.length === 0) lines.push(`const ${last} = ${index};`);
  return lines;
}
