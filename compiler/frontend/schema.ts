// Front end, stage 2: the JSON Schema of a spec, checked with ajv, with every failure as a diagnostic sentence.

import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { describeValue, DiagnosticList, nearestName, type KeyPath } from './diagnostics';
import type { SourceLocator } from './parse';

/** The loss names of the `loss` key. */
export const LOSS_NAMES = ['kernel', 'count', 'softmax'] as const;
export const LAYER_TYPES = ['conv', 'linear', 'pooling', 'dropout'] as const;

// Every leaf schema carries a `description` phrase that completes "must be ..." in messages.
const positiveInteger = { type: 'integer', minimum: 1, description: 'a positive integer' };
const nonNegativeInteger = { type: 'integer', minimum: 0, description: 'a non-negative integer' };
const positiveNumber = { type: 'number', exclusiveMinimum: 0, description: 'a number greater than 0' };
const text = { type: 'string', description: 'a string' };

function pairOf(item: object, description: string): object {
  return { description, anyOf: [item, { type: 'array', items: item, minItems: 2, maxItems: 2 }] };
}

const positivePair = pairOf(positiveInteger, 'a positive integer or [height, width]');
const padding = pairOf(nonNegativeInteger, 'a non-negative integer or [height, width]');

function layerSchema(type: (typeof LAYER_TYPES)[number], properties: Record<string, object>, required: string[]): object {
  return {
    title: `a ${type} layer`,
    type: 'object',
    properties: { type: { const: type }, ...properties },
    required,
    additionalProperties: false,
  };
}

const convLayer = layerSchema(
  'conv',
  {
    in_channels: positiveInteger,
    out_channels: positiveInteger,
    kernel_size: positivePair,
    stride: positivePair,
    padding,
    dilation: positivePair,
    weight_scale: positiveNumber,
    threshold: positiveNumber,
  },
  ['in_channels', 'out_channels', 'kernel_size'],
);

const linearLayer = layerSchema(
  'linear',
  { n_inputs: positiveInteger, n_outputs: positiveInteger, weight_scale: positiveNumber, threshold: positiveNumber },
  ['n_inputs', 'n_outputs'],
);

const poolingLayer = layerSchema(
  'pooling',
  {
    kernel_size: positivePair,
    stride: positivePair,
    padding,
    theta: positiveNumber,
    // Accepted because the original configs carry it; pooling has no neuron, so it is reported as ignored.
    threshold: { type: 'number', description: 'a number' },
  },
  ['kernel_size'],
);

const dropoutLayer = layerSchema(
  'dropout',
  { p: { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'a probability p with 0 ≤ p < 1' } },
  [],
);

export const specSchema = {
  title: 'the top level',
  type: 'object',
  properties: {
    Network: {
      title: 'Network',
      description: 'a mapping with n_steps, tau_m, tau_s, loss and n_class',
      type: 'object',
      properties: {
        epochs: positiveInteger,
        batch_size: positiveInteger,
        n_steps: positiveInteger,
        dataset: { type: 'string', description: 'a dataset name such as MNIST, FashionMNIST, CIFAR10 or NMNIST' },
        data_path: text,
        rule: { type: 'string', description: "the learning rule 'TSSLBP'" },
        model: { type: 'string', description: "the neuron model 'LIF'" },
        lr: positiveNumber,
        loss: { enum: [...LOSS_NAMES], description: `one of ${LOSS_NAMES.join(', ')}` },
        n_class: { type: 'integer', minimum: 2, description: 'an integer of at least 2' },
        desired_count: { type: 'number', minimum: 0, description: 'a number of at least 0' },
        undesired_count: { type: 'number', minimum: 0, description: 'a number of at least 0' },
        tau_m: { type: 'number', exclusiveMinimum: 1, description: 'a number greater than 1' },
        tau_s: { type: 'number', exclusiveMinimum: 1, description: 'a number greater than 1' },
        input_shape: {
          type: 'array',
          items: positiveInteger,
          minItems: 3,
          maxItems: 3,
          description: '[channels, height, width] of positive integers',
        },
        input_encoding: { enum: ['static', 'events'], description: 'static or events' },
      },
      required: ['n_steps', 'tau_m', 'tau_s', 'loss', 'n_class'],
      additionalProperties: false,
    },
    Layers: {
      title: 'Layers',
      description: 'a mapping of layer names to layer settings, with at least one layer',
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      additionalProperties: {
        type: 'object',
        description: 'a mapping of layer settings',
        properties: { type: { type: 'string', description: `one of ${LAYER_TYPES.join(', ')}` } },
        required: ['type'],
        discriminator: { propertyName: 'type' },
        oneOf: [convLayer, linearLayer, poolingLayer, dropoutLayer],
      },
    },
  },
  required: ['Network', 'Layers'],
  additionalProperties: false,
};

/** Hints for keys that older TSSL-BP configs set per layer and snnc sets once. */
const MOVED_KEYS: Record<string, string> = {
  tau_m: 'snnc uses one tau_m for all layers, so set it under Network',
  tau_s: 'snnc uses one tau_s for all layers, so set it under Network',
  batch_norm1d: 'snnc has no batch normalisation, so remove it',
  batch_norm3d: 'snnc has no batch normalisation, so remove it',
};

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  if (compiled === null) {
    const ajv = new Ajv({ allErrors: true, verbose: true, discriminator: true, strict: true });
    compiled = ajv.compile(specSchema);
  }
  return compiled;
}

/** Checks `data` against the spec schema and reports every failure. Returns true when there was none. */
export function checkSchema(data: unknown, locator: SourceLocator, diagnostics: DiagnosticList): boolean {
  const validate = validator();
  if (validate(data)) {
    return true;
  }
  const errors = relevantErrors(validate.errors ?? []);
  for (const error of withoutMisspelledRequired(errors)) {
    reportError(error, data, locator, diagnostics);
  }
  return false;
}

/** Drops the errors that another error already explains: branches of a failed anyOf, and discriminator tag errors. */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const failedAnyOf = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  return errors.filter((error) => {
    if (failedAnyOf.some((prefix) => error.schemaPath.startsWith(prefix))) {
      return false;
    }
    if (error.keyword === 'discriminator' && error.params.error === 'tag') {
      return false;
    }
    // A failed propertyNames check also lists the failure inside it, marked with `propertyName`.
    return !('propertyName' in error);
  });
}

/** Drops "missing required key" errors for keys that an unknown key of the same mapping misspells, so each typo is reported once. */
function withoutMisspelledRequired(errors: ErrorObject[]): ErrorObject[] {
  const misspelled = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'additionalProperties') {
      const valid = Object.keys(((error.parentSchema ?? {}) as SchemaNode).properties ?? {});
      const suggestion = nearestName(String(error.params.additionalProperty), valid);
      if (suggestion !== null) {
        misspelled.add(`${error.instancePath}/${suggestion}`);
      }
    }
  }
  return errors.filter(
    (error) => !(error.keyword === 'required' && misspelled.has(`${error.instancePath}/${String(error.params.missingProperty)}`)),
  );
}

function reportError(error: ErrorObject, data: unknown, locator: SourceLocator, diagnostics: DiagnosticList): void {
  const path = toKeyPath(error.instancePath, data);
  const parentSchema = (error.parentSchema ?? {}) as SchemaNode;
  const expected = parentSchema.description;

  switch (error.keyword) {
    case 'required': {
      const missing = String(error.params.missingProperty);
      const property = parentSchema.properties?.[missing];
      const hint = property?.description ?? property?.title;
      const message = hint === undefined ? 'missing required key' : `missing required key, expected ${hint}`;
      diagnostics.error(locator.key(path), [...path, missing], message);
      return;
    }
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const valid = Object.keys(parentSchema.properties ?? {});
      diagnostics.error(locator.key([...path, key]), [...path, key], unknownKeyMessage(key, valid, parentSchema.title));
      return;
    }
    case 'propertyNames': {
      const name = String(error.params.propertyName);
      const suggestion = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([0-9])/, '_$1');
      diagnostics.error(
        locator.key([...path, name]),
        [...path, name],
        `invalid layer name '${name}': a layer name starts with a letter or underscore and contains only letters, digits and underscores, e.g. '${suggestion}'`,
      );
      return;
    }
    case 'discriminator': {
      const value = error.params.tagValue;
      const suggestion = typeof value === 'string' ? nearestName(value, LAYER_TYPES) : null;
      const hint = suggestion === null ? '' : ` (did you mean '${suggestion}'?)`;
      diagnostics.error(
        locator.value([...path, 'type']),
        [...path, 'type'],
        `unknown layer type ${describeValue(value)}${hint}; valid types: ${LAYER_TYPES.join(', ')}`,
      );
      return;
    }
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map(String);
      const value = error.data;
      const suggestion = typeof value === 'string' ? nearestName(value, allowed) : null;
      const hint = suggestion === null ? '' : ` (did you mean '${suggestion}'?)`;
      diagnostics.error(locator.value(path), path, `must be one of ${allowed.join(', ')}, got ${describeValue(value)}${hint}`);
      return;
    }
    case 'minProperties': {
      diagnostics.error(locator.value(path), path, `must be ${expected ?? 'a non-empty mapping'}, got an empty mapping`);
      return;
    }
    default: {
      const phrase = expected ?? fallbackPhrase(error);
      const quoted = error.keyword === 'type' && isQuotedNumber(error.data) && ['number', 'integer'].includes(String(error.params.type));
      const fix = quoted ? ', so remove the quotes' : '';
      diagnostics.error(locator.value(path), path, `must be ${phrase}, got ${describeValue(error.data)}${fix}`);
    }
  }
}

interface SchemaNode {
  title?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
}

function unknownKeyMessage(key: string, valid: string[], context: string | undefined): string {
  let where = '';
  if (context === 'the top level') {
    where = ' at the top level';
  } else if (context !== undefined) {
    where = ` for ${context}`;
  }
  const moved = context?.endsWith(' layer') ? MOVED_KEYS[key] : undefined;
  if (moved !== undefined) {
    return `unknown key '${key}': ${moved}`;
  }
  const suggestion = nearestName(key, valid);
  const hint = suggestion === null ? '' : ` (did you mean '${suggestion}'?)`;
  return `unknown key '${key}'${hint}; valid keys${where}: ${valid.join(', ')}`;
}

function isQuotedNumber(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value));
}

/** Phrases a keyword's limit when the schema has no description. */
function fallbackPhrase(error: ErrorObject): string {
  const limit = error.params.limit;
  switch (error.keyword) {
    case 'type':
      return `of type ${String(error.params.type)}`;
    case 'minimum':
      return `at least ${limit}`;
    case 'exclusiveMinimum':
      return `greater than ${limit}`;
    case 'maximum':
      return `at most ${limit}`;
    case 'exclusiveMaximum':
      return `less than ${limit}`;
    case 'minItems':
      return `a list of at least ${limit} items`;
    case 'maxItems':
      return `a list of at most ${limit} items`;
    default:
      return `valid (${error.message ?? error.keyword})`;
  }
}

/** Converts an ajv instance path (JSON Pointer) into a key path, with numbers for list indices. */
function toKeyPath(pointer: string, data: unknown): KeyPath {
  const path: KeyPath = [];
  let current: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(segment);
      path.push(index);
      current = current[index];
    } else {
      path.push(segment);
      current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}
