// Runtime, generated-model contract: a structural check of `manifest.json`, so a stale or
// hand-edited file fails with a clear message. The types live in common/manifest.ts.

import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from '../../common/manifest';

export type { KernelOutput, KernelPhase, Manifest, ManifestBuffer, ManifestKernel, ManifestKernelArg, ManifestParameter, ScalarName } from '../../common/manifest';
export { MANIFEST_FORMAT, MANIFEST_VERSION } from '../../common/manifest';

/** Throws a one-line error naming `file` when `value` does not look like a manifest. */
export function checkManifest(value: unknown, file: string): Manifest {
  const fix = 'run `snnc compile SPEC` to regenerate it';
  if (typeof value !== 'object' || value === null) throw new Error(`${file}: not a snnc manifest (expected a JSON object); ${fix}`);
  const manifest = value as Partial<Manifest>;
  if (manifest.format !== MANIFEST_FORMAT) throw new Error(`${file}: not a snnc manifest (format is ${JSON.stringify(manifest.format)}); ${fix}`);
  if (manifest.version !== MANIFEST_VERSION) {
    throw new Error(`${file}: manifest version ${manifest.version} is not the supported version ${MANIFEST_VERSION}; ${fix}`);
  }
  for (const key of ['network', 'kernels', 'buffers', 'parameters', 'feeds', 'schedule', 'outputs', 'activations'] as const) {
    if (manifest[key] === undefined) throw new Error(`${file}: manifest is missing '${key}'; ${fix}`);
  }
  return manifest as Manifest;
}
