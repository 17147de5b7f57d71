// Runtime, webasm integer locals: makes gpu.js's WebAssembly backend declare a kernel local
// as an i32 when its initialiser is an integer expression, so index arithmetic stays integer.
//
// gpu.js 2.24.1 declares such locals as f32 on purpose, as its WebGL backend does.
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
// NOTE: this relies on internal methods of gpu.js 2.24.1's WebAssemblyFunctionNode. Without
// them the engine logs one line and keeps float indices. If a later gpu.js keeps the names but
// changes what they do, only the webasm golden and random-network tests would notice.

import { installOverride, type FunctionNodeClass } from './webasm-function-node';

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

type DeclareScalar = (this: FunctionNodeInternals, varDecNode: AstNode) => void;
type DeclareVarying = (this: FunctionNodeInternals, declaration: AstNode, varDecNode: AstNode) => void;


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

function notice(reason: string): string {
  return `webasm: integer index arithmetic is off because ${reason}; kernels run as gpu.js builds them, slower and with inexact indices above 2^24 (gpu.js 2.24.1 supports it)`;
}

/**
 * Turns the override on (installing it once per process) or off, for kernels built from now on.
 * Returns null when the requested state is in place, else a one-line notice saying why not.
 */
export function setIntegerLocals(on: boolean, functionNode?: FunctionNodeClass): string | null {
  enabled = on;
  if (!on) return null;
  const reason = installOverride(functionNode, REQUIRED, INSTALLED, patch);
  return reason === null ? null : notice(reason);
}

/** Replaces gpu.js's methods on `proto` with the override's, which read `enabled` on every call. */
function patch(proto: Record<string | symbol, unknown>): void {

  const declareScalar = proto.stmtVariableDeclaration as DeclareScalar;
  const declareVarying = proto.vDeclareVarying as DeclareVarying;

  proto.stmtVariableDeclaration = function (this: FunctionNodeInternals, varDecNode: AstNode): void {
    for (const declaration of varDecNode.declarations ?? []) {
      const init = integerInit(this, declaration);
      if (init === null) {
        declareScalar.call(this, { ...varDecNode, declarations: [declaration] });
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

  proto.vDeclareVarying = function (this: FunctionNodeInternals, declaration: AstNode, varDecNode: AstNode): void {
    const init = integerInit(this, declaration);
    if (init === null) {
      declareVarying.call(this, declaration, varDecNode);
      return;
    }
    const info = this.getDeclaration(declaration.id!);
    if (info !== null) info.valueType = 'Integer';
    this.vSetVaryingScalar(declaration.id!.name!, 'vi32', 'Integer', () => {
      if (init.type === 'Literal') this.vCastLiteralToInteger(init);
      else this.vCoerce(this.vexpr(init), 'vi32');
    });
  };

}
