// `snnc verify`: compiles a spec, runs one forward and backward pass on the weights and inputs
// of a reference-vector file, and prints each tensor's relative error against the file.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Network } from '../../common/network';
import { compileNetwork } from '../../compiler/compile';
import { formatDiagnostic, loadSpec, SpecError } from '../../compiler/frontend';
import { GoldenFormatError, goldenWeights, parseGolden, relativeError, type GoldenCase } from '../../runtime/golden';
import { BackendUnavailableError } from '../../runtime/gpu/backends';
import { openEngine, type BackendChoice } from '../../runtime/load';

const USAGE = `usage: snnc verify GOLDEN.json --spec SPEC.yaml [--backend B] [--tolerance X] [--out DIR]

Compiles SPEC for the input shape recorded in GOLDEN.json, loads the file's weights and
inputs, runs one forward and backward pass with its batch size, and prints for every
activation, the loss and every weight gradient the relative error max|a-b| / max|b|.

options:
  --spec FILE       YAML spec the reference vectors were made for (required)
  --backend B       auto, cpu, webasm, headlessgl, webgpu, webgl2 or reference (default auto)
  --tolerance X     largest relative error that passes (default 1e-4)
  --out DIR         directory for the compiled kernels (default: a temporary directory, removed afterwards)
  -h, --help        show this help

exit status: 0 every tensor within the tolerance, 1 some tensor outside it,
2 invalid command line or input file`;

const BACKENDS: BackendChoice[] = ['auto', 'cpu', 'webasm', 'headlessgl', 'webgpu', 'webgl2', 'reference'];

interface Arguments {
  golden: string;
  spec: string;
  backend: BackendChoice;
  tolerance: number;
  outDir: string | null;
}

class UsageError extends Error {}

function parseArguments(argv: string[]): Arguments {
  const positional: string[] = [];
  const args: Partial<Arguments> = { backend: 'auto', tolerance: 1e-4, outDir: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`option ${flag} needs a value`);
      i++;
      return next;
    };
    switch (flag) {
      case '--spec':
        args.spec = value();
        break;
      case '--backend': {
        const backend = value();
        if (!BACKENDS.includes(backend as BackendChoice)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${backend}'`);
        args.backend = backend as BackendChoice;
        break;
      }
      case '--tolerance': {
        const text = value();
        const tolerance = Number(text);
        if (!(tolerance > 0) || !Number.isFinite(tolerance)) throw new UsageError(`--tolerance must be a positive number such as 1e-4, got '${text}'`);
        args.tolerance = tolerance;
        break;
      }
      case '--out':
        args.outDir = value();
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? 'missing GOLDEN.json, the reference-vector file' : `expected one GOLDEN.json, got ${positional.length}: ${positional.join(' ')}`);
  }
  if (args.spec === undefined) throw new UsageError('missing --spec SPEC.yaml, the spec the reference vectors were made for');
  return { ...(args as Arguments), golden: positional[0] };
}

function readGolden(file: string): GoldenCase {
  if (!existsSync(file)) throw new GoldenFormatError(file, 'file not found; pass the path of a reference-vector JSON file');
  return parseGolden(file, readFileSync(file, 'utf8'));
}

/** Checks that the file's weights fit the compiled network, so a mismatched spec fails with the layer named. */
function checkWeights(golden: GoldenCase, network: Network, goldenFile: string, specFile: string): void {
  for (const layer of network.layers) {
    if (layer.type !== 'conv' && layer.type !== 'linear') continue;
    const tensor = golden.weights[layer.name];
    const expected = layer.weightShape.reduce((product: number, dim: number) => product * dim, 1);
    if (tensor === undefined) {
      throw new GoldenFormatError(goldenFile, `has no weights for layer '${layer.name}' of ${specFile}; is it the spec these vectors were made for?`);
    }
    if (tensor.data.length !== expected) {
      throw new GoldenFormatError(
        goldenFile,
        `weights of layer '${layer.name}' have shape [${tensor.shape.join(', ')}] but ${specFile} needs [${layer.weightShape.join(', ')}]`,
      );
    }
    // Without the expected gradient there is nothing to check the backward pass against.
    if (golden.weightGrads[layer.name] === undefined) {
      throw new GoldenFormatError(goldenFile, `has no 'weight_grads' entry for layer '${layer.name}' of ${specFile}; export the gradient of every trainable layer`);
    }
  }
  if (Object.keys(golden.activations).length === 0) {
    throw new GoldenFormatError(goldenFile, `has no 'activations'; export at least the output PSP of each layer of ${specFile}`);
  }
}

function report(name: string, error: number, tolerance: number): boolean {
  const ok = error <= tolerance;
  console.log(`  ${name.padEnd(24)} ${error.toExponential(2).padStart(10)}  ${ok ? 'OK' : 'FAIL'}`);
  return ok;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let args: Arguments;
  let golden: GoldenCase;
  let network: Network;
  try {
    args = parseArguments(argv);
    golden = readGolden(args.golden);
    const frontend = loadSpec(args.spec, { inputShape: golden.inputShape });
    for (const warning of frontend.warnings) console.error(formatDiagnostic(warning));
    network = frontend.network;
    checkWeights(golden, network, args.golden, args.spec);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`snnc verify: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof SpecError || error instanceof GoldenFormatError) {
      console.error(`snnc verify: ${error.message}`);
      return 2;
    }
    throw error;
  }

  const outDir = args.outDir ?? mkdtempSync(path.join(os.tmpdir(), 'snnc-verify-'));
  try {
    await compileNetwork(network, { outDir, dumpIr: false, printIrAfterAll: false, log: (line) => console.error(line) });
    const engine = await openEngine(outDir, { backend: args.backend, batchSize: golden.batch, log: (line) => console.error(line) });
    engine.setWeights(goldenWeights(golden));
    const result = await engine.forwardBackward({ size: golden.batch, input: golden.images, labels: golden.labels }, { keepActivations: true });
    engine.dispose();

    console.log(`${args.golden} against ${args.spec} on ${engine.backend}, batch ${golden.batch}, tolerance ${args.tolerance}:`);
    console.log(`  ${'tensor'.padEnd(24)} ${'rel. error'.padStart(10)}  result`);
    let passed = true;
    for (const [name, expected] of Object.entries(golden.activations)) {
      const actual = result.activations?.[name];
      passed = report(`activation ${name}`, actual === undefined ? Infinity : relativeError(actual, expected.data), args.tolerance) && passed;
    }
    const lossError = Math.abs(result.loss - golden.loss) / Math.max(Math.abs(golden.loss), Number.MIN_VALUE);
    passed = report('loss', lossError, args.tolerance) && passed;
    for (const [name, expected] of Object.entries(golden.weightGrads)) {
      const actual = result.weightGrads[name];
      passed = report(`weight gradient ${name}`, actual === undefined ? Infinity : relativeError(actual, expected.data), args.tolerance) && passed;
    }
    console.log(passed ? 'verify: every tensor within the tolerance' : 'verify: FAILED, some tensors are outside the tolerance');
    return passed ? 0 : 1;
  } catch (error) {
    if (error instanceof BackendUnavailableError) {
      console.error(`snnc verify: ${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    if (args.outDir === null) rmSync(outDir, { recursive: true, force: true });
  }
}
