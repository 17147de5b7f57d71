import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeWriteError, probeWritable, writeFileAtomic } from '../../runtime/train';
import { temporaryDirectory } from './fixtures';

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed`), { code });
}

test('full disk message names the path and the fix', () => {
  assert.is(
    describeWriteError('runs/x/last.ckpt', errnoError('ENOSPC')),
    'no space left on the device while writing runs/x/last.ckpt: free some space or choose another run directory with --out DIR',
  );
});

test('read-only message names the path and the fix', () => {
  for (const code of ['EACCES', 'EPERM', 'EROFS']) {
    assert.match(describeWriteError('/runs', errnoError(code)), new RegExp(`^cannot write /runs \\(${code}, .*--out DIR$`));
  }
});

test('probe creates the run directory and leaves it empty', () => {
  const dir = join(temporaryDirectory(), 'a', 'b');
  probeWritable(dir);
  assert.equal(readdirSync(dir), []);
});

test('atomic write replaces the whole file', () => {
  const path = join(temporaryDirectory(), 'summary.json');
  writeFileAtomic(path, 'first version, longer than the second');
  writeFileAtomic(path, 'second');
  assert.is(readFileSync(path, 'utf8'), 'second');
  assert.equal(readdirSync(join(path, '..')), ['summary.json']);
});

test.run();
