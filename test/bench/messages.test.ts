// Benchmark messages: bad options and unusable results files get one line naming the value
// and what to pass instead, with exit code 2, before anything is timed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import { compileInMemory } from '../../compiler/compile';
import { loadSpec } from '../../compiler/frontend';
import * as assert from 'uvu/assert';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function runScript(script: string, args: string[]): { code: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', script), ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status, stderr: result.stderr };
}

test('missing results file', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'snnc-bench-'));
  try {
    const file = path.join(folder, 'none.json');
    const { code, stderr } = runScript('run.ts', ['--from-results', file, '--markdown', path.join(folder, 'out.md')]);
    assert.is(code, 2);
    assert.is(
      stderr.trim(),
      `bench: results file ${file} could not be read (ENOENT: no such file or directory, open '${file}'); pass a file that npm run bench wrote with --out`,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('results file of another kind', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'snnc-bench-'));
  try {
    const file = path.join(folder, 'other.json');
    writeFileSync(file, '{"results": []}\n');
    const { code, stderr } = runScript('run.ts', ['--from-results', file, '--markdown', path.join(folder, 'out.md')]);
    assert.is(code, 2);
    assert.is(stderr.trim(), `bench: ${file} is not a bench results file: results, compile or machine is missing; pass a file that npm run bench wrote with --out`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

const PROBE_CASES: [string[], string][] = [
  [['--calls', '0'], "webasm probe: --calls is '0'; give a whole number of at least 1, such as 5"],
  [['--calls'], "webasm probe: --calls is ''; give a whole number of at least 1, such as 5"],
  [['--density', '2'], "webasm probe: --density is '2'; give a share above 0 and at most 1, such as 0.19"],
  [['--kernels', ''], "webasm probe: --kernels is ''; give kernel names separated by commas, such as conv_2_forward,FC_1_forward"],
  [['--fast'], "webasm probe: unknown option '--fast'; the options are --calls, --density and --kernels"],
];

test('probe unknown kernel', () => {
  const { manifest } = compileInMemory(loadSpec(path.join(repoRoot, 'specs', 'mnist.yaml')).network);
  const names = [...manifest.schedule.forward, ...manifest.schedule.backward, ...manifest.schedule.optimizer].filter((name) => !name.startsWith('host'));
  const { code, stderr } = runScript('webasm-probe.ts', ['--kernels', 'conv_9_forward']);
  assert.is(code, 2);
  assert.is(stderr.split('\n')[0], `webasm probe: --kernels names conv_9_forward, which is not a kernel of the training step; the kernels are ${names.join(', ')}`);
});

test('probe option errors', () => {
  for (const [args, message] of PROBE_CASES) {
    const { code, stderr } = runScript('webasm-probe.ts', args);
    assert.is(code, 2, args.join(' '));
    assert.is(stderr.split('\n')[0], message);
  }
});

test.run();
