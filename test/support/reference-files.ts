// Test support, reference files: finds the authors' reference vectors and the standard MNIST
// test set in the folder named `shared` beside the repository. A missing folder stops the
// tests with a message naming it.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The folder beside the repository that contains `golden/` and `data/mnist/`. */
export const referenceRoot = path.resolve(repoRoot, '..', 'shared');

/** Returns `referenceRoot/parts…`, or throws a message naming the missing folder and what belongs there. */
export function referencePath(...parts: string[]): string {
  const location = path.join(referenceRoot, ...parts);
  if (!existsSync(location)) {
    throw new Error(
      `reference files missing: ${location} does not exist. The tests read the authors' reference vectors ` +
        `(golden/) and the standard MNIST test set (data/mnist/) from ${referenceRoot}, the folder named shared beside this repository; ` +
        'copy them there before npm test',
    );
  }
  return location;
}
