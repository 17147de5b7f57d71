// IR dump of specs/mnist.yaml against its reviewed snapshot, and the dump's stability.
// Regenerate the snapshot deliberately with UPDATE_SNAPSHOTS=1 and review the diff.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileInMemory } from '../../compiler/compile';
import { parseSpecText } from '../../compiler/frontend';
import { repoRoot } from '../support/golden-cases';

const snapshotFile = path.join(repoRoot, 'test', 'ir', 'mnist.ir.txt');

function compileSpec(relativeFile: string) {
  const text = readFileSync(path.join(repoRoot, relativeFile), 'utf8');
  return compileInMemory(parseSpecText(relativeFile, text).network);
}

test('mnist IR matches the snapshot', () => {
  const { irText } = compileSpec('specs/mnist.yaml');
  if (process.env.UPDATE_SNAPSHOTS === '1') writeFileSync(snapshotFile, irText);
  const snapshot = readFileSync(snapshotFile, 'utf8');
  assert.fixture(irText, snapshot);
});

test('IR text is identical between compiles', () => {
  const first = compileSpec('specs/mnist.yaml');
  const second = compileSpec('specs/mnist.yaml');
  assert.is(first.irText, second.irText);
  assert.is(first.javascript, second.javascript);
  assert.is(JSON.stringify(first.module), JSON.stringify(second.module));
});

test('cifar10 buffers fit the texture limit at batch 50', () => {
  const { manifest } = compileSpec('specs/cifar10.yaml');
  assert.is(manifest.compiledBatchSize, 50);
  assert.ok(manifest.texture.fits, `largest texture side ${manifest.texture.largestSide}`);
  for (const buffer of manifest.buffers) assert.ok(Math.max(...buffer.texture) <= 16384, `${buffer.name} needs ${buffer.texture.join('x')}`);
});

test.run();
