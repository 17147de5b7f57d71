// Tests: every reference-vector case, compiled and run by the gpu.js engine on the real webgl2
// and webgpu backends in headless Chromium, matches the reference within 1e-4 of max |ref|.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compileNetwork } from '../../compiler/compile';
import { loadSpec } from '../../compiler/frontend';
import { goldenWeights, parseGolden, relativeError, type GoldenCase } from '../../runtime/golden';
import { browserAvailable, SharedPage } from './harness';
import type { GoldenPassInput, GoldenPassOutput } from './page/golden';
import { referencePath } from '../support/reference-files';

const suiteName = 'reference vectors in Chromium';
const test = suite(suiteName);
const tolerance = 1e-4;
const goldenDir = referencePath('golden');
const backends = ['webgl2', 'webgpu'] as const;

interface LoadedCase {
  name: string;
  golden: GoldenCase;
}

function loadCases(): LoadedCase[] {
  const files = readdirSync(goldenDir).filter((file) => file.endsWith('.json')).sort();
  return files.map((file) => ({
    name: path.basename(file, '.json'),
    golden: parseGolden(file, readFileSync(path.join(goldenDir, file), 'utf8')),
  }));
}

/** Compiles every case's spec into `outDir/<case>` and returns the page entry that bundles them all. */
async function compileCases(cases: LoadedCase[], outDir: string): Promise<string> {
  const start = performance.now();
  const lines = ["import { registerGoldenPage } from './test/browser/page/golden';"];
  const entries: string[] = [];
  for (const [index, { name, golden }] of cases.entries()) {
    const specFile = path.join(goldenDir, 'specs', golden.spec);
    const { network } = loadSpec(specFile, { inputShape: golden.inputShape });
    const caseDir = path.join(outDir, name);
    await compileNetwork(network, { outDir: caseDir, dumpIr: false, printIrAfterAll: false, log: () => {} });

    lines.push(`import * as kernels${index} from ${JSON.stringify(path.join(caseDir, 'kernels.js'))};`);
    lines.push(`import manifest${index} from ${JSON.stringify(path.join(caseDir, 'manifest.json'))};`);
    entries.push(`  ${JSON.stringify(name)}: { manifest: manifest${index}, kernels: kernels${index} },`);
  }
  lines.push('registerGoldenPage({', ...entries, '});');
  console.log(`${suiteName}: compiled ${cases.length} cases in ${(performance.now() - start).toFixed(0)} ms`);
  return lines.join('\n') + '\n';
}

function toPlain(tensors: Record<string, Float32Array>): Record<string, number[]> {
  const plain: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(tensors)) plain[name] = Array.from(values);
  return plain;
}

function assertWithinTolerance(actual: number[] | undefined, expected: Float32Array, label: string): void {
  assert.ok(actual !== undefined, `${label} is missing from the result`);
  const error = relativeError(Float32Array.from(actual), expected);
  assert.ok(error <= tolerance, `${label}: relative error ${error.toExponential(2)} exceeds ${tolerance}`);
}

if (browserAvailable(suiteName, test)) {
  const cases = loadCases();
  const outDir = mkdtempSync(path.join(tmpdir(), 'snnc-browser-golden-'));
  const page = new SharedPage(suiteName, () => compileCases(cases, outDir));
  test.after(async () => {
    await page.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  test('reference cases found', () => {
    assert.ok(cases.length > 0, `no *.json reference vectors in ${goldenDir}`);
  });

  for (const { name, golden } of cases) {
    for (const backend of backends) {
      test(`${name} on ${backend}`, async () => {
        const input: GoldenPassInput = {
          batch: golden.batch,
          images: Array.from(golden.images),
          labels: Array.from(golden.labels),
          weights: toPlain(goldenWeights(golden)),
        };
        const result = await (await page.get()).call<GoldenPassOutput>('runGoldenPass', [name, backend, input]);
        console.log(`${suiteName}: ${name} on ${backend} took ${result.milliseconds.toFixed(0)} ms`);

        assert.is(result.engineBackend, backend);
        assert.ok(result.kernels.length > 0, 'the engine created no gpu.js kernels');
        for (const kernel of result.kernels) {
          assert.is(kernel.backend, backend, `a kernel ran on ${kernel.backend}, not ${backend}`);
          assert.not.ok(kernel.fallbackRequested, `a kernel fell back to cpu: ${kernel.fallbackReason}`);
        }

        assertWithinTolerance([result.loss], Float32Array.of(golden.loss), 'loss');
        for (const [layer, tensor] of Object.entries(golden.activations)) {
          assertWithinTolerance(result.activations[layer], tensor.data, `activation ${layer}`);
        }
        for (const [layer, tensor] of Object.entries(golden.weightGrads)) {
          assertWithinTolerance(result.weightGrads[layer], tensor.data, `weight gradient ${layer}`);
        }
      });
    }
  }
}

test.run();
