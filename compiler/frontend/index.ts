// Front end, entry point: runs the stages in order and turns a YAML spec into a validated `Network`.
//
// Stages: parse (YAML with positions) → schema (ajv) → settings (Network section) →
// input (input shape) → shapes (every layer's shape) → network (assembly and hash).
// Every stage reports into one diagnostic list, so a spec's errors all arrive at once.

import { readFileSync } from 'node:fs';
import type { Network, SampleShape } from '../../common/network';
import { describeValue, DiagnosticList, SpecError, type Diagnostic } from './diagnostics';
import { resolveInput } from './input';
import { assembleNetwork } from './network';
import { parseYaml } from './parse';
import { checkSchema } from './schema';
import { readSettings } from './settings';
import { readLayers, resolveShapes } from './shapes';

export { formatDiagnostic, SpecError, type Diagnostic } from './diagnostics';

export interface FrontendOptions {
  /** `[channels, height, width]`; overrides `Network.input_shape` and the dataset's shape. */
  inputShape?: [number, number, number];
}

export interface FrontendResult {
  network: Network;
  /** Accepted settings that have no effect, and inferred values; in source order. */
  warnings: Diagnostic[];
}

/** Compiles spec text into a `Network`; `file` names the spec in messages. Throws SpecError listing every error. */
export function parseSpecText(file: string, text: string, options: FrontendOptions = {}): FrontendResult {
  const diagnostics = new DiagnosticList(file);
  const optionShape = checkOptionShape(options.inputShape, diagnostics);

  const parsed = parseYaml(text, diagnostics);
  if (parsed === null) {
    throw new SpecError(diagnostics.errors());
  }
  const { data, locator } = parsed;

  checkSchema(data, locator, diagnostics);
  const settings = readSettings(data, locator, diagnostics);
  const layers = readLayers(data, locator, diagnostics);
  const input = resolveInput(settings, layers, optionShape, locator, diagnostics);
  const resolved = resolveShapes(layers, input.arrival, settings.nClass, { diagnostics, locator });

  const errors = diagnostics.errors();
  if (errors.length > 0 || resolved === null) {
    if (errors.length === 0) {
      throw new Error(`internal error: ${file} has layers without a shape but no error explains why`);
    }
    throw new SpecError(errors);
  }
  return { network: assembleNetwork(file, settings, input, resolved), warnings: diagnostics.warnings() };
}

/** Reads and compiles a spec file; a missing or unreadable file is a SpecError naming the path. */
export function loadSpec(file: string, options: FrontendOptions = {}): FrontendResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = readFailure(error as NodeJS.ErrnoException);
    throw new SpecError([
      { file, line: 1, column: 1, path: '', message: `${reason}; pass the path of a YAML spec such as specs/mnist.yaml`, severity: 'error' },
    ]);
  }
  return parseSpecText(file, text, options);
}

function readFailure(error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') {
    return 'file not found';
  }
  if (error.code === 'EISDIR') {
    return 'is a directory, not a spec file';
  }
  return `cannot read the file (${error.code ?? error.message})`;
}

function checkOptionShape(shape: FrontendOptions['inputShape'], diagnostics: DiagnosticList): SampleShape | undefined {
  if (shape === undefined) {
    return undefined;
  }
  const valid = Array.isArray(shape) && shape.length === 3 && shape.every((n) => Number.isInteger(n) && n >= 1);
  if (!valid) {
    diagnostics.error(
      { line: 1, column: 1 },
      [],
      `invalid input shape option ${describeValue(shape)}: expected three positive integers [channels, height, width]`,
    );
    throw new SpecError(diagnostics.errors());
  }
  return [shape[0], shape[1], shape[2]];
}
