// IR, text dump: one op per line in MLIR style, kernel groups marked with a header that names
// the kernel and why its ops share it. The same module always prints the same bytes.

import type { AttrValue, Attrs, IrModule, KernelGroup, Op, Phase, Shape, Tensor } from './ir';

/** Formats a shape as `[N,15,24,24,5]`. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

function formatNumber(value: number): string {
  // Shortest round-trip form; stable across runs and platforms for the same float64.
  return Object.is(value, -0) ? '0' : String(value);
}

function formatAttrValue(value: AttrValue): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return `[${(value as (number | string)[]).map((item) => (typeof item === 'number' ? formatNumber(item) : JSON.stringify(item))).join(', ')}]`;
}

function formatAttrs(attrs: Attrs): string {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return '';
  return ` {${entries.map(([key, value]) => `${key} = ${formatAttrValue(value)}`).join(', ')}}`;
}

/** Formats one op: `%result = snn.kind(%a, %b) {attrs} : [shape]`. */
export function formatOp(module: IrModule, op: Op): string {
  const shapes = op.results.map((name) => formatShape(findTensor(module, name).shape));
  const results = op.results.map((name) => `%${name}`).join(', ');
  const operands = op.operands.map((name) => `%${name}`).join(', ');
  const type = shapes.length === 1 ? shapes[0] : `(${shapes.join(', ')})`;
  return `${results} = snn.${op.kind}(${operands})${formatAttrs(op.attrs)} : ${type}`;
}

function findTensor(module: IrModule, name: string): Tensor {
  const tensor = module.tensors.find((candidate) => candidate.name === name);
  if (tensor === undefined) throw new Error(`IR dump: op refers to undeclared tensor %${name}`);
  return tensor;
}

function headerLines(module: IrModule): string[] {
  const network = module.network;
  return [
    `// snnc IR of network '${network.name}' (${network.specFile})`,
    `// tensors are [batch, channels, height, width, time]; weights [out, in, kh, kw] or [out, in]; N is the batch, fixed at run time`,
    `// T = ${network.nSteps}, tau_m = ${network.tauM}, tau_s = ${network.tauS}, loss = ${network.loss}, input = ${network.inputEncoding}`,
  ];
}

function argumentLines(module: IrModule): string[] {
  const lines: string[] = [];
  const produced = new Set(module.ops.flatMap((op) => op.results));
  const roles: Tensor['role'][] = ['feed', 'parameter', 'scalar'];
  const argumentsInOrder = roles.flatMap((role) => module.tensors.filter((tensor) => tensor.role === role && !produced.has(tensor.name)));
  for (const tensor of argumentsInOrder) lines.push(`    %${tensor.name}: ${formatShape(tensor.shape)} ${tensor.role},`);
  if (lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1].slice(0, -1);
  return lines;
}

const phaseTitles: Record<Phase, string> = {
  forward: 'forward',
  backward: 'backward (derived)',
  optimizer: 'optimiser',
  readback: 'readback: run only when activations are requested',
};

function kernelHeader(module: IrModule, kernel: KernelGroup): string[] {
  const target = kernel.kind === 'host' ? 'host' : `${kernel.kind} -> %${kernel.output}`;
  const lines = [`  kernel @${kernel.name} (${target})`, `    // why: ${kernel.reason}`];
  if (kernel.recomputes.length > 0) {
    const recomputed = kernel.recomputes.map((id) => module.ops[id].results.map((name) => `%${name}`).join(', '));
    lines.push(`    // recomputes: ${recomputed.join(', ')}`);
  }
  if (kernel.saved.length > 0) {
    lines.push(`    // saved for backward: ${kernel.saved.map((name) => `%${name}`).join(', ')}`);
  }
  return lines;
}

function bodyLines(module: IrModule): string[] {
  const lines: string[] = [];
  let phase: Phase | null = null;

  if (module.kernels === null) {
    for (const op of module.ops) {
      if (op.phase !== phase) {
        phase = op.phase;
        lines.push(`  // ${phaseTitles[phase]}`);
      }
      lines.push(`  ${formatOp(module, op)}`);
    }
    return lines;
  }

  for (const kernel of module.kernels) {
    if (kernel.phase !== phase) {
      phase = kernel.phase;
      lines.push(`  // ${phaseTitles[phase]}`);
    }
    lines.push(...kernelHeader(module, kernel));
    for (const id of kernel.ops) lines.push(`    ${formatOp(module, module.ops[id])}`);
  }
  return lines;
}

function bufferLines(module: IrModule): string[] {
  if (module.buffers === null) return [];
  const batch = module.network.batchSize;
  const lines = [``, `// buffers at the compiled batch size ${batch}; each is one flat float32 array`];
  let total = 0;
  for (const buffer of module.buffers) {
    total += buffer.bytes;
    const packs = buffer.packs.length > 1 ? ` packs ${buffer.packs.map((name) => `%${name}`).join(' ')}` : '';
    lines.push(
      `//   ${buffer.name}: ${formatShape(buffer.shape)} ${buffer.elements} floats, ${buffer.bytes} bytes, ` +
        `texture ${buffer.texture[0]}x${buffer.texture[1]}, written by ${buffer.writer}${packs}`,
    );
  }
  const widest = Math.max(0, ...module.buffers.map((buffer) => Math.max(...buffer.texture)));
  lines.push(`// total ${total} bytes; largest texture side ${widest} of at most ${module.maxTextureSize}`);
  return lines;
}

/** Prints the whole module; ends with a newline. */
export function printModule(module: IrModule): string {
  const lines = [
    ...headerLines(module),
    `func @train_step(`,
    ...argumentLines(module),
    `) {`,
    ...bodyLines(module),
    `}`,
    ...bufferLines(module),
  ];
  return lines.join('\n') + '\n';
}
