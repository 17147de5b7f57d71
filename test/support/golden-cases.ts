// Test support: loads the reference-vector cases, each with the `Network` that the front end
// compiles from the case's spec for the case's input shape.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Network } from '../../common/network';
import { loadSpec } from '../../compiler/frontend';
import { parseGolden, type GoldenCase } from '../../runtime/golden';
import { referencePath } from './reference-files';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const goldenDir = referencePath('golden');

export interface LoadedGoldenCase {
  file: string;
  golden: GoldenCase;
  network: Network;
}

/** Loads every `*.json` case of the reference vectors with the network of its spec. */
export function loadGoldenCases(): LoadedGoldenCase[] {
  const files = readdirSync(goldenDir)
    .filter((file) => file.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const golden = parseGolden(file, readFileSync(path.join(goldenDir, file), 'utf8'));
    const specFile = path.join(goldenDir, 'specs', golden.spec);
    const { network } = loadSpec(specFile, { inputShape: golden.inputShape });
    return { file, golden, network };
  });
}
