// `snnc verify` end to end: a matching spec passes, a mismatched loss fails with exit 1, and a
// missing reference file is a usage-level error with exit 2.

import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../bin/commands/verify';
import { goldenDir } from '../support/golden-cases';

const golden = (name: string) => path.join(goldenDir, `${name}.json`);
const spec = (name: string) => path.join(goldenDir, 'specs', `${name}.yaml`);

async function quietly(argv: string[]): Promise<number> {
  const log = console.log;
  const error = console.error;
  console.log = () => {};
  console.error = () => {};
  try {
    return await run(argv);
  } finally {
    console.log = log;
    console.error = error;
  }
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

test.run();
