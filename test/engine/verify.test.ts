// `snnc verify` end to end: a matching spec passes, a mismatched loss fails with exit 1, and a
// missing reference file is a usage-level error with exit 2.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../bin/commands/verify';
import { goldenDir } from '../support/golden-cases';

const golden = (name: string) => path.join(goldenDir, `${name}.json`);
const spec = (name: string) => path.join(goldenDir, 'specs', `${name}.yaml`);

async function quietly(argv: string[], errors: string[] = []): Promise<number> {
  const log = console.log;
  const error = console.error;
  console.log = () => {};
  console.error = (line: string) => errors.push(line);
  try {
    return await run(argv);
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** Writes a copy of a reference case with one top-level field replaced. */
function editedCase(name: string, field: string, value: unknown): string {
  const data = JSON.parse(readFileSync(golden(name), 'utf8'));
  data[field] = value;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'snnc-verify-test-')), `${name}.json`);
  writeFileSync(file, JSON.stringify(data));
  return file;
}

test('matching spec passes', async () => {
  assert.is(await quietly([golden('tiny_mlp_softmax'), '--spec', spec('tiny_mlp_softmax'), '--backend', 'cpu']), 0);
});

test('different loss fails', async () => {
  assert.is(await quietly([golden('tiny_mlp_count'), '--spec', spec('tiny_mlp_kernel'), '--backend', 'cpu']), 1);
});

test('missing reference file exits 2', async () => {
  assert.is(await quietly([path.join(goldenDir, 'missing.json'), '--spec', spec('tiny_mlp_kernel')]), 2);
});

test('missing spec option exits 2', async () => {
  assert.is(await quietly([golden('tiny_mlp_kernel')]), 2);
});

test('missing weight gradients exit 2', async () => {
  const file = editedCase('tiny_mlp_kernel', 'weight_grads', {});
  const errors: string[] = [];
  assert.is(await quietly([file, '--spec', spec('tiny_mlp_kernel'), '--backend', 'cpu'], errors), 2);
  assert.is(
    errors.at(-1),
    `snnc verify: ${file}: has no 'weight_grads' entry for layer 'hidden' of ${spec('tiny_mlp_kernel')}; export the gradient of every trainable layer`,
  );
});

test('missing activations exit 2', async () => {
  const file = editedCase('tiny_mlp_kernel', 'activations', {});
  const errors: string[] = [];
  assert.is(await quietly([file, '--spec', spec('tiny_mlp_kernel'), '--backend', 'cpu'], errors), 2);
  assert.is(errors.at(-1), `snnc verify: ${file}: has no 'activations'; export at least the output PSP of each layer of ${spec('tiny_mlp_kernel')}`);
});

test.run();
