// Runtime, webasm vector loads: makes gpu.js's WebAssembly backend read 4 consecutive
// elements with one v128.load when the 4 SIMD lanes of a read index consecutive elements.
//
// gpu.js 2.24.1 reads an array element whose index differs across the 4 lanes of a SIMD step
// with 4 scalar loads and lane inserts, also when the 4 indices are consecutive. The lanes
// are 4 consecutive values of this.thread.x, so an index of the form
// `uniform + this.thread.x`, through sums, differences, integer-literal products and
// locals that are declared once and never assigned, reads 4 consecutive elements. Such a
// read becomes one 16-byte load at lane 0's index.
//
// The read falls back to gpu.js's own gather when any lane may be switched off: under a
// lane-dependent branch or loop, and in a kernel with a lane-dependent early return. Then
// an off lane's index need not lie in the array, and lane 0's may not either.
//
// NOTE: this relies on internal methods of gpu.js 2.24.1's WebAssemblyFunctionNode (its
// gather, index emission and variance analysis). Without them the engine logs one line and
// keeps gpu.js's gathers. If a later gpu.js keeps the names but changes what they do, only
// the webasm golden and random-network tests would notice.

import { overrideTarget, type FunctionNodeClass } from './webasm-function-node';

interface AstNode {
  type: string;
  name?: string;
  operator?: string;
  value?: unknown;
  kind?: string;
  init?: AstNode | null;
  id?: AstNode;
  left?: AstNode;
  right?: AstNode;
  argument?: AstNode;
  object?: AstNode;
  property?: AstNode;
  computed?: boolean;
  declarations?: AstNode[];
  [key: string]: unknown;
}

interface Emitter {
  bytes: number[];
  /** Byte range in `bytes` of the last f32.load this override saw. */
  snncLoadStart?: number;
  snncLoadEnd?: number;
  f32Load(offset?: number, align?: number): Emitter;
  i32x4ExtractLane(lane: number): Emitter;
  i32Const(value: number): Emitter;
  i32Shl(): Emitter;
  i32Add(): Emitter;
  v128Load(offset: number, align: number): Emitter;
}

/** The members of gpu.js's WebAssemblyFunctionNode that the override uses. */
interface FunctionNodeInternals {
  em: Emitter;
  assembler: { layout: Record<string, Record<string, { offset: number } | undefined>> };
  vMaskDepth: number;
  vInfo: { exprVarying(ast: AstNode): boolean; varyingReturn: boolean };
  getType(ast: AstNode): string;
  getJsAST(): AstNode;
  vEmitIndex(ast: AstNode): void;
  vCoerce(from: string, to: string): string;
  snncLocals?: Map<string, Definition>;
}

type Gather = (
  this: FunctionNodeInternals,
  table: string,
  name: string,
  xProperty: AstNode,
  yProperty: AstNode | undefined,
  zProperty: AstNode | undefined,
  mNode: AstNode,
) => string;

/** A local's initialiser, or null when the local is declared more than once or assigned. */
interface Definition {
  init: AstNode | null;
  stride?: number | null;
}


const REQUIRED = ['vGather', 'vEmitIndex', 'vCoerce', 'getType', 'getJsAST'];
const INSTALLED = Symbol.for('snnc.webasm-vector-loads');

/** Switch of the override, which the installed methods read on every read. */
let enabled = true;

/** v128.load instructions emitted for consecutive lanes since the process started. */
let vectorLoads = 0;

/** Returns how many reads of 4 consecutive elements became one v128.load since the process started. */
export function vectorLoadsEmitted(): number {
  return vectorLoads;
}

/** Finds each local's single initialiser by walking the kernel's AST once. */
function collectLocals(ast: AstNode): Map<string, Definition> {
  const locals = new Map<string, Definition>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const n = node as AstNode;
    if (n.type === 'VariableDeclarator' && n.id?.type === 'Identifier') {
      const name = n.id.name!;
      locals.set(name, locals.has(name) ? { init: null } : { init: n.init ?? null });
    } else if (n.type === 'AssignmentExpression' && n.left?.type === 'Identifier') {
      locals.set(n.left.name!, { init: null });
    } else if (n.type === 'UpdateExpression' && n.argument?.type === 'Identifier') {
      locals.set(n.argument.name!, { init: null });
    }
    for (const key of Object.keys(n)) {
      if (key === 'loc' || key === 'start' || key === 'end' || key === 'parent') continue;
      visit(n[key]);
    }
  };
  visit(ast);
  return locals;
}

/**
 * Returns how far apart the values of `ast` are in neighbouring lanes: 0 for a value the same in
 * every lane, 1 for `uniform + this.thread.x`, null when the lanes are not evenly spaced or
 * the analysis cannot tell.
 */
function laneStride(node: FunctionNodeInternals, ast: AstNode, visiting: Set<string>): number | null {
  if (!node.vInfo.exprVarying(ast)) return 0;
  switch (ast.type) {
    case 'MemberExpression': {
      const isThreadX = ast.object?.type === 'MemberExpression' && ast.object.object?.type === 'ThisExpression'
        && ast.object.property?.name === 'thread' && !ast.computed && ast.property?.name === 'x';
      return isThreadX ? 1 : null;
    }
    case 'Identifier': {
      const definition = node.snncLocals!.get(ast.name!);
      if (definition === undefined || definition.init === null || visiting.has(ast.name!)) return null;
      if (definition.stride === undefined) {
        visiting.add(ast.name!);
        definition.stride = laneStride(node, definition.init, visiting);
        visiting.delete(ast.name!);
      }
      return definition.stride;
    }
    case 'BinaryExpression': {
      const left = ast.left!;
      const right = ast.right!;
      if (ast.operator === '+' || ast.operator === '-') {
        const a = laneStride(node, left, visiting);
        const b = laneStride(node, right, visiting);
        if (a === null || b === null) return null;
        return ast.operator === '+' ? a + b : a - b;
      }
      if (ast.operator === '*') {
        const [factor, other] = left.type === 'Literal' ? [left, right] : [right, left];
        if (factor.type !== 'Literal' || !Number.isInteger(factor.value)) return null;
        const s = laneStride(node, other, visiting);
        return s === null ? null : s * (factor.value as number);
      }
      if (ast.operator === '|' && right.type === 'Literal' && right.value === 0 && node.getType(left) === 'Integer') {
        return laneStride(node, left, visiting);
      }
      return null;
    }
    default:
      return null;
  }
}

function notice(reason: string): string {
  return `webasm: vector loads are off because ${reason}; kernels read 4 consecutive elements with 4 scalar loads, which is slower (gpu.js 2.24.1 supports them)`;
}

/**
 * Turns the override on (installing it once per process) or off, for kernels built from now on.
 * Returns null when the requested state is in place, else a one-line notice saying why not.
 */
export function setVectorLoads(on: boolean, functionNode?: FunctionNodeClass): string | null {
  enabled = on;
  if (!on) return null;
  const target = overrideTarget(functionNode, REQUIRED, INSTALLED);
  if ('installed' in target) return null;
  if ('reason' in target) return notice(target.reason);
  const proto = target.proto;

  const gather = proto.vGather as Gather;
  proto.vGather = function (this: FunctionNodeInternals, ...args: Parameters<Gather>): string {
    const [table, name, xProperty, yProperty, zProperty] = args;
    const layout = this.assembler?.layout?.[table]?.[name];
    const contiguous = enabled && layout !== undefined && yProperty === undefined && zProperty === undefined
      && this.vMaskDepth === 0 && this.vInfo !== undefined && !this.vInfo.varyingReturn
      && this.getType(xProperty) === 'Integer';
    if (contiguous) {
      this.snncLocals ??= collectLocals(this.getJsAST());
      if (laneStride(this, xProperty, new Set()) === 1) {
        // `base + k` adds k to lane 0 of base as a scalar, so the lane extraction is the same for
        // every read of base and the compiler can share it.
        const right = xProperty.right;
        const offsetRead = xProperty.type === 'BinaryExpression' && xProperty.operator === '+' && right?.type === 'Literal'
          && Number.isInteger(right.value) && laneStride(this, xProperty.left!, new Set()) === 1;
        if (offsetRead) {
          this.vEmitIndex(xProperty.left!);
          this.em.i32x4ExtractLane(0).i32Const(right!.value as number).i32Add();
        } else {
          this.vEmitIndex(xProperty);
          this.em.i32x4ExtractLane(0);
        }
        this.em.i32Const(2).i32Shl().v128Load(layout.offset, 2);
        vectorLoads++;
        return 'vf32';
      }
    }
    return gather.apply(this, args);
  };

  // A value read once for all 4 lanes is an f32.load followed by f32x4.splat. When the splat
  // directly follows the load, the load becomes v128.load32_splat, which does both. V8 compiles
  // it to one vbroadcastss from memory on this x86-64 machine. The memarg stays the same.
  const coerce = proto.vCoerce as FunctionNodeInternals['vCoerce'];
  proto.vCoerce = function (this: FunctionNodeInternals, from: string, to: string): string {
    const em = this.em;
    // The emitter class is patched on first use, so the first splat of a process may stay two instructions.
    trackLoads(em);
    if (enabled && from === 'f32' && to === 'vf32' && em.snncLoadEnd === em.bytes.length && em.snncLoadStart !== undefined) {
      // Nothing was emitted after the load, so no recorded call position moves.
      em.bytes.splice(em.snncLoadStart, 1, 0xfd, 0x09);
      em.snncLoadEnd = undefined;
      return 'vf32';
    }
    return coerce.call(this, from, to);
  };

  proto[INSTALLED] = true;
  return null;
}

/** Records where each f32.load starts and ends, once per emitter class. */
function trackLoads(em: Emitter): void {
  const emitterProto = Object.getPrototypeOf(em) as Record<string | symbol, unknown>;
  if (emitterProto[INSTALLED] === true) return;
  const load = emitterProto.f32Load as Emitter['f32Load'];
  emitterProto.f32Load = function (this: Emitter, offset?: number, align?: number): Emitter {
    const start = this.bytes.length;
    const result = load.call(this, offset, align);
    this.snncLoadStart = start;
    this.snncLoadEnd = this.bytes.length;
    return result;
  };
  emitterProto[INSTALLED] = true;
}
