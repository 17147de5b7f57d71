// `snnc compile`: checks a YAML spec with the front end, then hands the network to the IR and codegen stage.

import path from 'node:path';
import type { Network } from '../../common/network';
import { compileNetwork } from '../../compiler/compile';
import { formatDiagnostic, loadSpec, SpecError } from '../../compiler/frontend/index';

const USAGE = `usage: snnc compile SPEC [--out DIR] [--dump-ir] [--print-ir-after-all] [--input-shape C,H,W]

Checks the YAML spec SPEC (the TSSL-BP config format: Network and Layers sections),
prints every error with its file, line and column, and writes the IR and the gpu.js
kernels for it.

options:
  --out DIR              directory to write the kernels and manifest.json into
                         (default: generated/<spec file name without extension>,
                         relative to the current directory)
  --dump-ir              print the final IR as text to stdout (it is always written to
                         DIR/ir.txt); progress lines then go to stderr
  --print-ir-after-all   print the IR to stdout after every compiler pass; progress
                         lines then go to stderr
  --input-shape C,H,W    input channels, height and width in pixels, e.g. 1,28,28;
                         overrides Network.input_shape and the shape of the dataset
  -h, --help             show this help

exit status: 0 compiled, 1 the compiler failed after the spec was accepted,
2 invalid spec or invalid command line`;

interface Arguments {
  spec: string;
  outDir: string | null;
  dumpIr: boolean;
  printIrAfterAll: boolean;
  inputShape?: [number, number, number];
}

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }

  let args: Arguments;
  try {
    args = parseArguments(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`snnc compile: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }

  let network: Network;
  try {
    const result = loadSpec(args.spec, { inputShape: args.inputShape });
    for (const warning of result.warnings) {
      console.error(formatDiagnostic(warning));
    }
    network = result.network;
  } catch (error) {
    if (error instanceof SpecError) {
      console.error(error.message);
      const count = error.diagnostics.length;
      console.error(`snnc compile: ${count} error${count === 1 ? '' : 's'} in ${args.spec}; nothing was written`);
      return 2;
    }
    throw error;
  }

  const outDir = args.outDir ?? path.join('generated', network.name);
  // When the IR is printed, stdout carries only the IR text so it can be redirected to a file.
  const printsIr = args.dumpIr || args.printIrAfterAll;
  const log = printsIr ? (line: string) => console.error(line) : (line: string) => console.log(line);
  printSummary(network, log);

  try {
    await compileNetwork(network, { outDir, dumpIr: args.dumpIr, printIrAfterAll: args.printIrAfterAll, log });
  } catch (error) {
    console.error(`snnc compile: compiling ${args.spec} into ${outDir} failed: ${(error as Error).message}`);
    return 1;
  }
  log(`wrote ${outDir}`);
  return 0;
}

function parseArguments(argv: string[]): Arguments {
  const args: Arguments = { spec: '', outDir: null, dumpIr: false, printIrAfterAll: false };
  const specs: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inlineValue] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const takeValue = (): string => {
      if (inlineValue !== undefined) {
        return inlineValue;
      }
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new UsageError(`option ${flag} needs a value`);
      }
      i++;
      return value;
    };

    switch (flag) {
      case '--out':
        args.outDir = takeValue();
        break;
      case '--dump-ir':
        args.dumpIr = true;
        break;
      case '--print-ir-after-all':
        args.printIrAfterAll = true;
        break;
      case '--input-shape':
        args.inputShape = parseInputShape(takeValue());
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') {
          throw new UsageError(`unknown option '${arg}'`);
        }
        specs.push(arg);
    }
    if (inlineValue !== undefined && (flag === '--dump-ir' || flag === '--print-ir-after-all')) {
      throw new UsageError(`option ${flag} takes no value, got '${arg}'`);
    }
  }

  if (specs.length !== 1) {
    throw new UsageError(specs.length === 0 ? 'missing SPEC, the path of a YAML spec such as specs/mnist.yaml' : `expected one SPEC, got ${specs.length}: ${specs.join(' ')}`);
  }
  args.spec = specs[0];
  return args;
}

function parseInputShape(text: string): [number, number, number] {
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 3 || !numbers.every((n, i) => /^[0-9]+$/.test(parts[i]) && Number.isInteger(n) && n >= 1)) {
    throw new UsageError(`--input-shape must be three positive integers C,H,W such as 1,28,28, got '${text}'`);
  }
  return [numbers[0], numbers[1], numbers[2]];
}

function printSummary(network: Network, log: (line: string) => void): void {
  const input = `${network.inputShape.join('×')} ${network.inputEncoding}`;
  log(`${network.specFile}: ${network.layers.length} layers, input ${input}, n_steps ${network.nSteps}, loss ${network.loss}`);
  for (const layer of network.layers) {
    log(`  ${layer.name.padEnd(12)} ${layer.type.padEnd(8)} ${layer.inShape.join('×')} -> ${layer.outShape.join('×')}`);
  }
}

