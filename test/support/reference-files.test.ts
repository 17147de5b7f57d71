// Test support, reference files: a missing reference folder stops the tests with its path.

import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { referencePath, referenceRoot } from './reference-files';

test('existing reference folder resolves', () => {
  assert.is(referencePath('golden'), path.join(referenceRoot, 'golden'));
});

test('missing reference folder names it', () => {
  const missing = path.join(referenceRoot, 'no-such-folder');
  assert.throws(
    () => referencePath('no-such-folder'),
    (error: Error) =>
      error.message ===
      `reference files missing: ${missing} does not exist. The tests read the authors' reference vectors (golden/) and the standard MNIST ` +
        `test set (data/mnist/) from ${referenceRoot}, the folder named shared beside this repository; copy them there before npm test`,
  );
});

test.run();
