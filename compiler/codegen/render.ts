// Code generation, rendering: fills each kernel kind's handlebars template with the group's
// context and returns the kernel body as JavaScript text that is also valid TypeScript.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { KernelContext } from './contexts';

const templateDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');

function readTemplate(name: string): string {
  return readFileSync(path.join(templateDir, `${name}.hbs`), 'utf8');
}

let environment: typeof Handlebars | null = null;
const compiled = new Map<string, HandlebarsTemplateDelegate>();

function templates(): typeof Handlebars {
  if (environment === null) {
    environment = Handlebars.create();
    environment.registerPartial('lif-step', readTemplate('lif-step'));
    environment.registerPartial('tssl-step', readTemplate('tssl-step'));
  }
  return environment;
}

/** Renders the body of one kernel function. */
export function renderKernelBody(context: KernelContext): string {
  let template = compiled.get(context.template);
  if (template === undefined) {
    template = templates().compile(readTemplate(context.template), { noEscape: true, strict: true });
    compiled.set(context.template, template);
  }
  const text = template(context.values);
  return text.replace(/\n{3,}/g, '\n\n').trimEnd();
}
