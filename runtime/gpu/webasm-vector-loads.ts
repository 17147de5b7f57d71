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
// In the code V8 (Node 20) compiles from these modules, loop-invariant code stays inside the
// loops, so the override also makes each read cheap to address. Lane 0's index comes from i32
// copies of the locals it is built from, not from 4-lane vector arithmetic, and the constant k
// of `base + k` goes into the load's offset.
//
// NOTE: this relies on internal methods of gpu.js 2.24.1's WebAssemblyFunctionNode (its
// gather, flat load, index emission, varying declarations and variance analysis). Without
// them the engine logs one line and keeps gpu.js's gathers. If a later gpu.js keeps the names
// but changes what they do, only the webasm golden and random-network tests would notice.

import { installOverride, type FunctionNodeClass } from './webasm-function-node';

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
  /** i32 locals holding lane 0 of the declared-once locals that are `uniform + this.thread.x`, by name. */
  snncLaneZero?: Map<string, number>;
  /** Byte range in `bytes` of the last f32.load this override saw. */
  snncLoadStart?: number;
  snncLoadEnd?: number;
  f32Load(offset?: number, align?: number): Emitter;
  i32x4ExtractLane(lane: number): Emitter;
  i32Const(value: number): Emitter;
  i32Shl(): Emitter;
  i32Add(): Emitter;
  i32Sub(): Emitter;
  i32Mul(): Emitter;
  globalGet(index: number): Emitter;
  localGet(index: number): Emitter;
  localSet(index: number): Emitter;
  addLocal(type: string): number;
  v128Load(offset: number, align: number): Emitter;
}

/** The members of gpu.js's WebAssemblyFunctionNode that the override uses. */
interface FunctionNodeInternals {
  em: Emitter;
  assembler: { layout: Record<string, Record<string, { offset: number } | undefined>>; globals: { threadX: number } };
  vec?: boolean;
  vMaskDepth: number;
  vInfo: { exprVarying(ast: AstNode): boolean; varyingReturn: boolean };
  getType(ast: AstNode): string;
  getJsAST(): AstNode;
  vEmitIndex(ast: AstNode): void;
  emitIndex(ast: AstNode): void;
  vCoerce(from: string, to: string): string;
  snncLocals?: Map<string, Definition>;
}

/** gpu.js's emitter of one array read (its gather, and its load of a read that is the same in every lane). */
type ArrayRead = (
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


type SetVaryingScalar = (this: FunctionNodeInternals, name: string, wtype: string, gtype: string, emitInit: () => void) => void;

const REQUIRED = ['vGather', 'vEmitIndex', 'emitIndex', 'emitFlatLoad', 'vSetVaryingScalar', 'vCoerce', 'getType', 'getJsAST'];
const INSTALLED = Symbol.for('snnc.webasm-vector-loads');

/** Switch of the override, which the installed methods read on every read. */
let enabled = true;

/** Counts of the reads each rewrite of the override changed since the process started. */
export interface LoadCounts {
  /** Reads of 4 consecutive elements that became one v128.load. */
  vectorLoads: number;
  /** Of those, reads whose lane-0 index was computed with scalar instructions. */
  scalarIndices: number;
  /** Reads (vector or same-in-every-lane) whose constant offset went into the load instruction. */
  foldedOffsets: number;
}

const counts: LoadCounts = { vectorLoads: 0, scalarIndices: 0, foldedOffsets: 0 };

/** Returns how many reads each rewrite of the override has changed since the process started. */
export function loadCounts(): LoadCounts {
  return { ...counts };
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
    case 'MemberExpression':
      return isThreadX(ast) ? 1 : null;
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

function isThreadX(ast: AstNode): boolean {
  return ast.type === 'MemberExpression' && ast.object?.type === 'MemberExpression' && ast.object.object?.type === 'ThisExpression'
    && ast.object.property?.name === 'thread' && !ast.computed && ast.property?.name === 'x';
}

function integerLiteral(ast: AstNode | undefined): ast is AstNode & { value: number } {
  return ast?.type === 'Literal' && Number.isInteger(ast.value);
}

/**
 * Checks whether `emitLaneZero` can compute lane 0 of `ast` with scalar i32 instructions. It can
 * for integer values that are the same in every lane, this.thread.x, locals with a lane-0 copy,
 * and sums, differences, integer-literal products and `| 0` of those.
 */
function hasLaneZero(node: FunctionNodeInternals, ast: AstNode): boolean {
  if (!node.vInfo.exprVarying(ast)) {
    const type = node.getType(ast);
    return type === 'Integer' || type === 'LiteralInteger';
  }
  switch (ast.type) {
    case 'MemberExpression':
      return isThreadX(ast);
    case 'Identifier':
      return node.em.snncLaneZero?.has(ast.name!) === true;
    case 'BinaryExpression':
      if (ast.operator === '+' || ast.operator === '-') return hasLaneZero(node, ast.left!) && hasLaneZero(node, ast.right!);
      if (ast.operator === '*') {
        if (integerLiteral(ast.left)) return hasLaneZero(node, ast.right!);
        return integerLiteral(ast.right) && hasLaneZero(node, ast.left!);
      }
      return ast.operator === '|' && ast.right?.type === 'Literal' && ast.right.value === 0 && node.getType(ast.left!) === 'Integer'
        && hasLaneZero(node, ast.left!);
    default:
      return false;
  }
}

/** Emits lane 0 of `ast` as one i32, for an expression `hasLaneZero` accepts. */
function emitLaneZero(node: FunctionNodeInternals, ast: AstNode): void {
  const em = node.em;
  if (!node.vInfo.exprVarying(ast)) {
    node.emitIndex(ast);
    return;
  }
  if (ast.type === 'MemberExpression') {
    em.globalGet(node.assembler.globals.threadX);
  } else if (ast.type === 'Identifier') {
    em.localGet(em.snncLaneZero!.get(ast.name!)!);
  } else if (ast.operator === '+' || ast.operator === '-') {
    emitLaneZero(node, ast.left!);
    emitLaneZero(node, ast.right!);
    if (ast.operator === '+') em.i32Add();
    else em.i32Sub();
  } else if (ast.operator === '*') {
    const [factor, other] = integerLiteral(ast.left) ? [ast.left, ast.right!] : [ast.right!, ast.left!];
    emitLaneZero(node, other);
    em.i32Const(factor.value as number).i32Mul();
  } else {
    emitLaneZero(node, ast.left!);
  }
}

/** Splits `base + k` (k an integer literal) into base and k; any other index is itself plus 0. */
function splitOffset(ast: AstNode): { base: AstNode; k: number } {
  if (ast.type === 'BinaryExpression' && ast.operator === '+' && integerLiteral(ast.right)) return { base: ast.left!, k: ast.right.value };
  return { base: ast, k: 0 };
}

/**
 * Ends a load of element `base + k` of an array at byte `offset`, with base's index on the stack.
 * For 0 < 4k <= offset the byte address of element base goes on the stack and 4k becomes the
 * load's constant offset, so that reads of one base at several k share the address arithmetic
 * and x86-64 adds k inside the load. Element base + k lies in the array, so base >= -k and that
 * address is at least offset - 4k >= 0: it cannot wrap. Otherwise k is added to the index.
 */
function emitOffsetLoad(em: Emitter, offset: number, k: number, load: (offset: number) => void): void {
  if (k > 0 && 4 * k <= offset) {
    em.i32Const(2).i32Shl().i32Const(offset).i32Add();
    load(4 * k);
    counts.foldedOffsets++;
    return;
  }
  if (k !== 0) em.i32Const(k).i32Add();
  em.i32Const(2).i32Shl();
  load(offset);
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
  const reason = installOverride(functionNode, REQUIRED, INSTALLED, patch);
  return reason === null ? null : notice(reason);
}

/** Replaces gpu.js's methods on `proto` with the override's, which read `enabled` on every call. */
function patch(proto: Record<string | symbol, unknown>): void {

  const gather = proto.vGather as ArrayRead;
  proto.vGather = function (this: FunctionNodeInternals, ...args: Parameters<ArrayRead>): string {
    const [table, name, xProperty, yProperty, zProperty] = args;
    const layout = this.assembler?.layout?.[table]?.[name];
    const contiguous = enabled && layout !== undefined && yProperty === undefined && zProperty === undefined
      && this.vMaskDepth === 0 && this.vInfo !== undefined && !this.vInfo.varyingReturn
      && this.getType(xProperty) === 'Integer';
    if (contiguous) {
      this.snncLocals ??= collectLocals(this.getJsAST());
      if (laneStride(this, xProperty, new Set()) === 1) {
        const { base, k } = splitOffset(xProperty);
        if (hasLaneZero(this, base)) {
          // Lane 0's index in scalar instructions, without the 4-lane index vector.
          emitLaneZero(this, base);
          counts.scalarIndices++;
        } else {
          this.vEmitIndex(base);
          this.em.i32x4ExtractLane(0);
        }
        emitOffsetLoad(this.em, layout.offset, k, (offset) => this.em.v128Load(offset, 2));
        counts.vectorLoads++;
        return 'vf32';
      }
    }
    return gather.apply(this, args);
  };

  // A read with the same index in every lane, or in the scalar code: `base + k` shares base's
  // address arithmetic with the other reads of base. Under a lane mask gpu.js clamps the index,
  // so those reads stay as they are.
  const flatLoad = proto.emitFlatLoad as ArrayRead;
  proto.emitFlatLoad = function (this: FunctionNodeInternals, ...args: Parameters<ArrayRead>): string {
    const [table, name, xProperty, yProperty, zProperty] = args;
    const layout = this.assembler?.layout?.[table]?.[name];
    const { base, k } = splitOffset(xProperty);
    if (enabled && layout !== undefined && yProperty === undefined && zProperty === undefined && k > 0
      && !(this.vec === true && this.vMaskDepth > 0) && this.getType(xProperty) === 'Integer' && this.getType(base) === 'Integer') {
      this.emitIndex(base);
      emitOffsetLoad(this.em, layout.offset, k, (offset) => this.em.f32Load(offset, 2));
      return 'f32';
    }
    return flatLoad.apply(this, args);
  };

  // A local declared once as `uniform + this.thread.x` also keeps its lane 0 in an i32 local, so
  // the reads built on it compute lane 0's index without 4-lane vector arithmetic.
  const setVaryingScalar = proto.vSetVaryingScalar as SetVaryingScalar;
  proto.vSetVaryingScalar = function (this: FunctionNodeInternals, ...args: Parameters<SetVaryingScalar>): void {
    setVaryingScalar.apply(this, args);
    const [name, wtype, gtype] = args;
    if (!enabled || wtype !== 'vi32' || gtype !== 'Integer' || this.vMaskDepth !== 0 || this.vInfo === undefined) return;
    this.snncLocals ??= collectLocals(this.getJsAST());
    const init = this.snncLocals.get(name)?.init;
    if (init === null || init === undefined || laneStride(this, init, new Set()) !== 1 || !hasLaneZero(this, init)) return;
    const em = this.em;
    const index = em.addLocal('i32');
    emitLaneZero(this, init);
    em.localSet(index);
    (em.snncLaneZero ??= new Map()).set(name, index);
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
