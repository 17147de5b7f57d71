// Front end, stage 3: the `Network` section's settings, with the checks that span several keys.

import type { LossKind } from '../../common/network';
import { DiagnosticList, type KeyPath } from './diagnostics';
import type { SourceLocator } from './parse';

/** Training defaults of the reference runs, used when the spec leaves a key out. */
export const DEFAULT_BATCH_SIZE = 50;
export const DEFAULT_LR = 0.0005;
export const DEFAULT_EPOCHS = 100;

/** Values of the `Network` section; a key is undefined when it is missing or already reported as invalid. */
export interface Settings {
  nSteps?: number;
  tauM?: number;
  tauS?: number;
  loss?: LossKind;
  nClass?: number;
  desiredCount?: number;
  undesiredCount?: number;
  batchSize?: number;
  lr?: number;
  epochs?: number;
  dataset: string | null;
  dataPath: string | null;
  /** `input_shape` as written; checked against the layers later. */
  inputShape?: [number, number, number];
  inputEncoding?: 'static' | 'events';
  /** Whether `dataset` or `input_shape` was present but invalid, so no input shape should be inferred. */
  inputKeysInvalid: boolean;
}

/** Reads one key of a mapping when it is present and passed the schema. */
export class SectionReader {
  constructor(
    readonly section: Record<string, unknown>,
    readonly path: KeyPath,
    private readonly diagnostics: DiagnosticList,
  ) {}

  has(key: string): boolean {
    return this.section[key] !== undefined;
  }

  /** The value of `key`, or undefined when it is missing or has an error. */
  get<T>(key: string): T | undefined {
    if (!this.has(key) || this.diagnostics.hasErrorAt([...this.path, key])) {
      return undefined;
    }
    return this.section[key] as T;
  }

  /** Tells whether `key` is present and was reported as invalid. */
  invalid(key: string): boolean {
    return this.has(key) && this.diagnostics.hasErrorAt([...this.path, key]);
  }
}

export function readSettings(data: Record<string, unknown>, locator: SourceLocator, diagnostics: DiagnosticList): Settings {
  const section = isMapping(data.Network) ? data.Network : {};
  const network = new SectionReader(section, ['Network'], diagnostics);

  checkRuleAndModel(network, locator, diagnostics);

  const settings: Settings = {
    nSteps: network.get('n_steps'),
    tauM: network.get('tau_m'),
    tauS: network.get('tau_s'),
    loss: network.get('loss'),
    nClass: network.get('n_class'),
    desiredCount: network.get('desired_count'),
    undesiredCount: network.get('undesired_count'),
    batchSize: network.has('batch_size') ? network.get('batch_size') : DEFAULT_BATCH_SIZE,
    lr: network.has('lr') ? network.get('lr') : DEFAULT_LR,
    epochs: network.has('epochs') ? network.get('epochs') : DEFAULT_EPOCHS,
    dataset: network.get<string>('dataset') ?? null,
    dataPath: network.get<string>('data_path') ?? null,
    inputShape: network.get('input_shape'),
    inputEncoding: network.get('input_encoding'),
    inputKeysInvalid: network.invalid('dataset') || network.invalid('input_shape'),
  };

  checkStepsForKernelLoss(settings, locator, diagnostics);
  checkCounts(network, settings, locator, diagnostics);
  return settings;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkRuleAndModel(network: SectionReader, locator: SourceLocator, diagnostics: DiagnosticList): void {
  const rule = network.get<string>('rule');
  if (rule !== undefined && rule.toUpperCase() !== 'TSSLBP') {
    diagnostics.error(
      locator.value(['Network', 'rule']),
      ['Network', 'rule'],
      `unsupported learning rule '${rule}'; snnc supports only TSSLBP, so set rule: TSSLBP or remove the key`,
    );
  }
  const model = network.get<string>('model');
  if (model !== undefined && model.toUpperCase() !== 'LIF') {
    diagnostics.error(
      locator.value(['Network', 'model']),
      ['Network', 'model'],
      `unsupported neuron model '${model}'; snnc supports only LIF, so set model: LIF or remove the key`,
    );
  }
}

/**
 * Checks `n_steps` against the kernel loss. Its desired spike train repeats a 5-step pattern
 * below 10 steps and a 10-step pattern from 10 steps up, so other step counts have no target.
 */
function checkStepsForKernelLoss(settings: Settings, locator: SourceLocator, diagnostics: DiagnosticList): void {
  const steps = settings.nSteps;
  if (settings.loss !== 'kernel' || steps === undefined || isKernelLossSteps(steps)) {
    return;
  }
  const below = nearestKernelLossSteps(steps, -1);
  const above = nearestKernelLossSteps(steps, +1);
  const nearby = below === null ? `${above}` : `${below} or ${above}`;
  diagnostics.error(
    locator.value(['Network', 'n_steps']),
    ['Network', 'n_steps'],
    `must be a multiple of 5 below 10 or a multiple of 10 from 10 up for loss 'kernel', got ${steps}; the nearest valid values are ${nearby}`,
  );
}

export function isKernelLossSteps(steps: number): boolean {
  return steps < 10 ? steps % 5 === 0 : steps % 10 === 0;
}

function nearestKernelLossSteps(steps: number, direction: -1 | 1): number | null {
  for (let candidate = steps + direction; candidate >= 1; candidate += direction) {
    if (isKernelLossSteps(candidate)) {
      return candidate;
    }
  }
  return null;
}

function checkCounts(network: SectionReader, settings: Settings, locator: SourceLocator, diagnostics: DiagnosticList): void {
  const countKeys = ['desired_count', 'undesired_count'] as const;

  if (settings.loss !== undefined && settings.loss !== 'count') {
    for (const key of countKeys) {
      if (network.has(key)) {
        diagnostics.warning(
          locator.value(['Network', key]),
          ['Network', key],
          `has no effect with loss '${settings.loss}'; only loss 'count' reads ${key}`,
        );
      }
    }
    return;
  }
  if (settings.loss !== 'count') {
    return;
  }

  const descriptions = {
    desired_count: 'the target sum of output PSPs for the label neuron',
    undesired_count: 'the target sum of output PSPs for the other output neurons',
  };
  for (const key of countKeys) {
    if (!network.has(key)) {
      diagnostics.error(
        locator.key(['Network']),
        ['Network', key],
        `missing required key for loss 'count', expected ${descriptions[key]}, a number of at least 0`,
      );
    }
  }

  const { desiredCount, undesiredCount, nSteps } = settings;
  if (desiredCount !== undefined && undesiredCount !== undefined && desiredCount <= undesiredCount) {
    diagnostics.error(
      locator.value(['Network', 'desired_count']),
      ['Network', 'desired_count'],
      `must be greater than undesired_count (${undesiredCount}) so that the label neuron is trained to fire more than the others, got ${desiredCount}`,
    );
  }
  if (desiredCount !== undefined && nSteps !== undefined && desiredCount >= nSteps) {
    // Each output PSP stays below 1, so its sum over n_steps steps stays below n_steps.
    diagnostics.warning(
      locator.value(['Network', 'desired_count']),
      ['Network', 'desired_count'],
      `${desiredCount} cannot be reached: the sum of an output PSP over n_steps = ${nSteps} steps stays below ${nSteps}`,
    );
  }
}
