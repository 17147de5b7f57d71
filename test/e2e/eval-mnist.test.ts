// End-to-end: `snnc eval` of a checkpoint from a short MNIST run on the real MNIST test files.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSpec, makeTempDir, repoRoot, snncOk } from './harness';
import { referencePath } from '../support/reference-files';

const realMnist = referencePath('data', 'mnist');

/** Reads the first `count` labels of an IDX label file (gzip), independently of snnc's reader. */
function firstLabels(file: string, count: number): number[] {
  const bytes = zlib.gunzipSync(readFileSync(file));
  assert.is(bytes.readUInt32BE(0), 0x00000801, `${file}: IDX label magic`);
  return Array.from(bytes.subarray(8, 8 + count));
}

/** Parses the rows of the printed confusion matrix: a class name, then ten counts. */
function confusionRows(stdout: string): number[][] {
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => /^\s+0(\s+\d){9}\s*$/.test(line));
  assert.ok(header >= 0, `no header row of class names in:\n${stdout}`);
  return lines.slice(header + 1, header + 11).map((line) => {
    const fields = line.trim().split(/\s+/);
    assert.is(fields.length, 11, `confusion row '${line}'`);
    return fields.slice(1).map(Number);
  });
}

test('eval prints accuracy and confusion on real MNIST', async () => {
  const { dir, remove } = makeTempDir();
  try {
    const generated = path.join(dir, 'generated', 'mnist');
    await compileSpec('specs/mnist.yaml', generated);
    const runDir = path.join(dir, 'run');
    await snncOk(
      ['run', generated, '--limit-train', '20', '--limit-test', '10', '--epochs', '1', '--batch-size', '10', '--backend', 'webasm', '--out', runDir],
      repoRoot,
    );

    const checkpoint = path.join(runDir, 'best.ckpt');
    const result = await snncOk(
      ['eval', generated, '--checkpoint', checkpoint, '--data', realMnist, '--limit-test', '100', '--backend', 'webasm'],
      repoRoot,
    );
    assert.match(result.stdout, `data: MNIST IDX files in ${realMnist}`);
    assert.match(result.stdout, `checkpoint ${checkpoint} (spec 'mnist', 1 epoch trained)`);

    const accuracy = /^test accuracy (\d+\.\d\d)% \((\d+)\/(\d+)\)$/m.exec(result.stdout);
    assert.ok(accuracy, `no accuracy line in:\n${result.stdout}`);
    const [, percent, correct, total] = accuracy;
    assert.is(Number(total), 100);

    const rows = confusionRows(result.stdout);
    assert.is(rows.length, 10);
    const counts = rows.flat();
    assert.ok(counts.every((count) => Number.isInteger(count) && count >= 0), 'counts are non-negative integers');
    assert.is(counts.reduce((sum, count) => sum + count, 0), 100, 'confusion counts sum');

    const labels = firstLabels(path.join(realMnist, 't10k-labels-idx1-ubyte.gz'), 100);
    rows.forEach((row, digit) => {
      const expected = labels.filter((label) => label === digit).length;
      assert.is(row.reduce((sum, count) => sum + count, 0), expected, `test digits labelled ${digit}`);
    });
    const diagonal = rows.reduce((sum, row, digit) => sum + row[digit], 0);
    assert.is(Number(correct), diagonal, 'correct count equals the confusion diagonal');
    assert.is(percent, diagonal.toFixed(2), 'accuracy percentage of 100 digits');
  } finally {
    remove();
  }
});

test.run();
