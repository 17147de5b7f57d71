// Runtime, webasm integer locals: makes gpu.js's WebAssembly backend keep a kernel local that
// is declared from an integer expression as an i32, so that index arithmetic stays integer.
//
// gpu.js 2.24.1 declares such locals as f32 on purpose (its WebGL backend does the same).
// Every array read then computes its index in f32 and converts it with a saturating
// truncation. That conversion is most of the cost of a read. With integer locals, the MNIST
// conv_2 kernels at batch 50 took about 130 to 170 ms instead of about 220 to 230
// (npm run bench:probe). f32 indices are also inexact above 2^24, and a CIFAR-10 activation
// buffer at batch 50 is larger than that.
//
// Only declarations whose initialiser gpu.js itself types as Integer change: thread ids,
// `| 0` results, sums and products of those, and loop counters. Everything else goes through
// the backend's own code. Browser-safe: the class comes from gpu.js's public exports.
//
// NOTE: this relies on internal methods of gpu.js 2.24.1's WebAssemblyFunctionNode. A gpu.js
// without them gets a one-line notice and float indices. A gpu.js that keeps their names but
// changes what they do is caught only by the golden and random-network tests on webasm.

import * as gpujs from 'gpu.js';

interface AstNode {
  type: string;
  name?: string;
  init?: AstNode | null;
  id?: AstNode;
  declarations?: AstNode[];
}

interface Declaration {
  valueType: string | null;
}

/** The members of gpu.js's WebAssemblyFunctionNode that the override uses. */
interface FunctionNodeInternals {
  getType(ast: AstNode): string;
  getDeclaration(ast: AstNode): Declaration | null;
  isThreadDependent(ast: AstNode): boolean;
  taintedLocals?: Set<string>;
  setScalarLocal(name: string, wtype: string, gtype: string, emitInit: () => void): void;
  vSetVaryingScalar(name: string, wtype: string, gtype: string, emitInit: () => void): void;
  castLiteralToInteger(ast: AstNode): void;
  vCastLiteralToInteger(ast: AstNode): void;
  coerce(emitted: unknown, wtype: string): void;
  vCoerce(emitted: unknown, wtype: string): void;
  expression(ast: AstNode): unknown;
  vexpr(ast: AstNode): unknown;
}

type Method = (this: FunctionNodeInternals, ...args: never[]) => unknown;

const REQUIRED = [
  'stmtVariableDeclaration',
  'vDeclareVarying',
  'getType',
  'getDeclaration',
  'isThreadDependent',
  'setScalarLocal',
  'vSetVaryingScalar',
  'castLiteralToInteger',
  'vCastLiteralToInteger',
  'coerce',
  'vCoerce',
  'expression',
  'vexpr',
];

const INSTALLED = Symbol.for('snnc.webasm-integer-locals');

/** Whether the override is active; the installed methods read it on every declaration. */
let enabled = true;

function integerInit(node: FunctionNodeInternals, declaration: AstNode): AstNode | null {
  const init = declaration.init;
  if (!enabled || !init || !declaration.id || declaration.id.type !== 'Identifier') return null;
  return node.getType(init) === 'Integer' ? init : null;
}

/**
 * Turns the override on (installing it once per process) or off, for kernels built from now on.
 * Returns null when the requested state is in place. Otherwise it returns why the override
 * could not be installed (another gpu.js version), and kernels run as gpu.js builds them.
 */
export function setIntegerLocals(on: boolean): string | null {
  enabled = on;
  if (!on) return null;
  const exported = (gpujs as unknown as Record<string, unknown>).WebAssemblyFunctionNode as { prototype: Record<string | symbol, unknown> } | undefined;
  if (exported === undefined) return 'this gpu.js has no WebAssemblyFunctionNode';
  const proto = exported.prototype;
  if (proto[INSTALLED] === true) return null;
  const missing = REQUIRED.filter((name) => typeof proto[name] !== 'function');
  if (missing.length > 0) return `this gpu.js's WebAssemblyFunctionNode lacks ${missing.join(', ')}`;

  const declareScalar = proto.stmtVariableDeclaration as Method;
  proto.stmtVariableDeclaration = function (this: FunctionNodeInternals, varDecNode: AstNode): void {
    for (const declaration of varDecNode.declarations ?? []) {
      const init = integerInit(this, declaration);
      if (init === null) {
        (declareScalar as (this: FunctionNodeInternals, node: AstNode) => void).call(this, { ...varDecNode, declarations: [declaration] });
        continue;
      }
      const name = declaration.id!.name!;
      const info = this.getDeclaration(declaration.id!);
      if (info !== null) info.valueType = 'Integer';
      this.setScalarLocal(name, 'i32', 'Integer', () => {
        if (init.type === 'Literal') this.castLiteralToInteger(init);
        else this.coerce(this.expression(init), 'i32');
      });
      if (this.isThreadDependent(init)) this.taintedLocals?.add(name);
    }
  };

  const declareVarying = proto.vDeclareVarying as Method;
  proto.vDeclareVarying = function (this: FunctionNodeInternals, declaration: AstNode, varDecNode: AstNode): void {
    const init = integerInit(this, declaration);
    if (init === null) {
      (declareVarying as (this: FunctionNodeInternals, d: AstNode, v: AstNode) => void).call(this, declaration, varDecNode);
      return;
    }
    const info = this.getDeclaration(declaration.id!);
    if (info !== null) info.valueType = 'Integer';
    this.vSetVaryingScalar(declaration.id!.name!, 'vi32', 'Integer', () => {
      if (init.type === 'Literal') this.vCastLiteralToInteger(init);
      else this.vCoerce(this.vexpr(init), 'vi32');
    });
  };

  proto[INSTALLED] = true;
  return null;
}
