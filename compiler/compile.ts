// Compiler driver: runs the IR passes on a validated network, generates and assembles the
// kernels, and writes ir.txt, ir.json, kernels.ts, kernels.js and manifest.json.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Network } from '../common/network';
import { assembleKernels } from './codegen/assemble';
import { kernelContexts } from './codegen/contexts';
import { buildManifest } from './codegen/manifest';
import type { Manifest } from '../common/manifest';
import { renderKernelBody } from './codegen/render';
import type { IrModule } from './ir/ir';
import { printModule } from './ir/print';
import { runPasses } from './passes/pipeline';
import { oversizedBuffers } from './passes/plan-buffers';

export interface CompileOptions {
  outDir: string;
  /** Print the final IR text (the content of ir.txt) to stdout. */
  dumpIr: boolean;
  /** Print the IR after every pass to stdout, each headed by the pass name. */
  printIrAfterAll: boolean;
  log: (line: string) => void;
}

export interface CompiledNetwork {
  module: IrModule;
  irText: string;
  typescript: string;
  javascript: string;
  manifest: Manifest;
}

/** Compiles `network` in memory, without writing files. */
export function compileInMemory(network: Network, afterPass?: (pass: string, text: string) => void): CompiledNetwork {
  const module = runPasses(network, afterPass);
  const irText = printModule(module);
  const contexts = kernelContexts(module);
  const rendered = contexts.map((context) => ({ context, body: renderKernelBody(context) }));
  const assembled = assembleKernels(module, rendered);
  const manifest = buildManifest(module, contexts, assembled.sources);
  return { module, irText, typescript: assembled.typescript, javascript: assembled.javascript, manifest };
}

/** Compiles `network` into `options.outDir`. */
export async function compileNetwork(network: Network, options: CompileOptions): Promise<void> {
  const started = Date.now();
  const afterPass = options.printIrAfterAll
    ? (pass: string, text: string) => process.stdout.write(`// ----- IR after pass '${pass}'\n${text}\n`)
    : undefined;
  const compiled = compileInMemory(network, afterPass);

  await mkdir(options.outDir, { recursive: true });
  await writeFile(path.join(options.outDir, 'ir.txt'), compiled.irText);
  await writeFile(path.join(options.outDir, 'ir.json'), JSON.stringify(compiled.module, null, 2) + '\n');
  await writeFile(path.join(options.outDir, 'kernels.ts'), compiled.typescript);
  await writeFile(path.join(options.outDir, 'kernels.js'), compiled.javascript);
  await writeFile(path.join(options.outDir, 'manifest.json'), JSON.stringify(compiled.manifest, null, 2) + '\n');
  if (options.dumpIr) process.stdout.write(compiled.irText);

  for (const buffer of oversizedBuffers(compiled.module)) {
    options.log(
      `warning: buffer ${buffer.name} needs a ${buffer.texture[0]}x${buffer.texture[1]} texture at batch ${network.batchSize}, ` +
        `over the ${compiled.module.maxTextureSize} limit of WebGL; use a smaller batch on the GL backends`,
    );
  }
  const kernelCount = compiled.manifest.kernels.length;
  options.log(`compiled ${network.name}: ${kernelCount} kernels into ${options.outDir} in ${Date.now() - started} ms`);
}
