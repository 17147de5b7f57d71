import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const snnc = path.join(repoRoot, 'bin', 'snnc.js');

function compile(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [snnc, 'compile', ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const broken = `Network:
  n_steps: 7
  loss: kernel
  n_class: 3
  tau_m: 5
  tau_s: 3
  input_shape: [1, 4, 4]
Layers:
  output:
    type: linear
    n_inputs: 15
    n_outputs: 3
`;

test('broken spec exits 2 and writes nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'snnc-compile-'));
  try {
    writeFileSync(path.join(dir, 'broken.yaml'), broken);
    const result = compile(['broken.yaml', '--out', 'out'], dir);
    assert.is(result.status, 2);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines, [
      "broken.yaml:2:12 Network.n_steps: must be a multiple of 5 below 10 or a multiple of 10 from 10 up for loss 'kernel', got 7; the nearest valid values are 5 or 10",
      'broken.yaml:11:15 Layers.output.n_inputs: got 15, expected 16 = 1×4×4 from the input set by Network.input_shape',
      'snnc compile: 2 errors in broken.yaml; nothing was written',
    ]);
    assert.not.ok(existsSync(path.join(dir, 'out')), 'output directory was created');
    assert.not.ok(existsSync(path.join(dir, 'generated')), 'default output directory was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing spec file exits 2', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'snnc-compile-'));
  try {
    const result = compile(['nothing.yaml'], dir);
    assert.is(result.status, 2);
    assert.match(result.stderr, 'nothing.yaml:1:1: file not found');
    assert.not.ok(existsSync(path.join(dir, 'generated')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown flag prints usage and exits 2', () => {
  const result = compile(['specs/mnist.yaml', '--fast'], repoRoot);
  assert.is(result.status, 2);
  assert.match(result.stderr, "snnc compile: unknown option '--fast'");
  assert.match(result.stderr, 'usage: snnc compile SPEC');
});

test('bad input shape flag exits 2', () => {
  const result = compile(['specs/mnist.yaml', '--input-shape', '1,28'], repoRoot);
  assert.is(result.status, 2);
  assert.match(result.stderr, "--input-shape must be three positive integers C,H,W such as 1,28,28, got '1,28'");
});

test('help documents every flag', () => {
  const result = compile(['--help'], repoRoot);
  assert.is(result.status, 0);
  for (const flag of ['--out DIR', '--dump-ir', '--print-ir-after-all', '--input-shape C,H,W', '--help']) {
    assert.match(result.stdout, flag);
  }
});

test.run();
