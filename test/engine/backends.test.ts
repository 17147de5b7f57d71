// Backend selection in Node: `auto` falls back past webgpu and headlessgl with one line saying
// why, an explicit backend that cannot load is a one-line error, and a missing or corrupt
// generated directory names the directory and the fix.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileNetwork } from '../../compiler/compile';
import { BackendUnavailableError, selectBackend } from '../../runtime/gpu/backends';
import type { Manifest } from '../../runtime/gpu/manifest';
import { NODE_BACKEND_ORDER, nodeProbes, openEngine, readManifest } from '../../runtime/load';
import { loadGoldenCases } from '../support/golden-cases';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'snnc-backends-'));
const { network } = loadGoldenCases().find((entry) => entry.file === 'tiny_mlp_kernel.json') ?? loadGoldenCases()[0];
const generatedDir = path.join(workDir, 'model');

test.before(async () => {
  await compileNetwork(network, { outDir: generatedDir, dumpIr: false, printIrAfterAll: false, log: () => {} });
});

test('auto logs one line with its reasons', async () => {
  const lines: string[] = [];
  const engine = await openEngine(generatedDir, { backend: 'auto', batchSize: 2, log: (line) => lines.push(line) });
  assert.is(lines.length, 1);
  assert.ok(!lines[0].includes('\n'));
  assert.ok(lines[0].startsWith(`backend: ${engine.backend}`), lines[0]);
  // Whichever backend won, every backend before it in the order is named with its reason.
  const chosen = NODE_BACKEND_ORDER.indexOf(engine.backend as (typeof NODE_BACKEND_ORDER)[number]);
  for (const skipped of NODE_BACKEND_ORDER.slice(0, chosen)) assert.ok(lines[0].includes(`${skipped}: `), lines[0]);
  engine.dispose();
});

test('auto without webgpu or gl picks webasm', async () => {
  const probes = { ...nodeProbes, webgpu: async () => 'no adapter', headlessgl: async () => "the optional 'gl' package is not installed" };
  const selection = await selectBackend('auto', NODE_BACKEND_ORDER, probes);
  assert.is(selection.backend, 'webasm');
  assert.is(selection.message, "backend: webasm (webgpu: no adapter; headlessgl: the optional 'gl' package is not installed)");
  selection.gpu.destroy();
});

test('explicit unavailable backend is one line', async () => {
  const probes = { ...nodeProbes, headlessgl: async () => "the optional 'gl' package is not installed" };
  try {
    await selectBackend('headlessgl', NODE_BACKEND_ORDER, probes);
    assert.unreachable('headlessgl without gl must fail');
  } catch (error) {
    assert.instance(error, BackendUnavailableError);
    assert.ok(!(error as Error).message.includes('\n'));
    assert.match((error as Error).message, /headlessgl/);
  }
});

test('webgl2 in Node is one line', async () => {
  try {
    await openEngine(generatedDir, { backend: 'webgl2', batchSize: 2 });
    assert.unreachable('webgl2 needs a browser');
  } catch (error) {
    assert.ok(!(error as Error).message.includes('\n'), (error as Error).message);
    assert.match((error as Error).message, /webgl2/);
  }
});

test('reference backend opens the reference engine', async () => {
  const engine = await openEngine(generatedDir, { backend: 'reference', batchSize: 2 });
  assert.is(engine.backend, 'reference');
  assert.is(engine.network.name, network.name);
});

test('missing manifest names the directory', () => {
  const empty = path.join(workDir, 'empty');
  assert.throws(() => readManifest(empty), (error: Error) => error.message.includes(empty) && error.message.includes('snnc compile'));
});

test('corrupt manifest names the file', () => {
  const file = path.join(workDir, 'manifest.json');
  writeFileSync(file, '{ not json');
  assert.throws(() => readManifest(workDir), (error: Error) => error.message.includes(file) && error.message.includes('snnc compile'));
});

test('compiled manifest passes the runtime check', () => {
  const manifest: Manifest = readManifest(generatedDir);
  assert.is(manifest.format, 'snnc-manifest');
  assert.ok(manifest.kernels.every((kernel) => typeof kernel.source === 'string' && kernel.source.startsWith(`function ${kernel.name}(`)));
});

test.after(() => rmSync(workDir, { recursive: true, force: true }));

test.run();
