// Front end, stage 1: YAML text to a plain value, with source positions for every key and value.

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { describeValue, DiagnosticList, type KeyPath, type Position } from './diagnostics';

/** A parsed spec: the plain value that later stages check, and a way back to its source text. */
export interface ParsedSpec {
  /** The document as plain JavaScript; mappings become objects, lists become arrays. */
  data: Record<string, unknown>;
  locator: SourceLocator;
}

/** Maps key paths of the parsed document back to line and column. */
export class SourceLocator {
  constructor(
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Position of the value at `path`, or of its key when the value is empty; falls back to the deepest existing ancestor. */
  value(path: KeyPath): Position {
    const found = this.find(path);
    const valueStart = found.value?.range?.[0];
    const valueEnd = found.value?.range?.[1];
    if (found.complete && valueStart !== undefined && valueEnd !== undefined && valueEnd > valueStart) {
      return this.position(valueStart);
    }
    return this.key(path);
  }

  /** Position of the key that introduces `path`; for the document itself, its first character. */
  key(path: KeyPath): Position {
    const found = this.find(path);
    const keyStart = found.key?.range?.[0];
    if (keyStart !== undefined) {
      return this.position(keyStart);
    }
    return this.position(this.document.contents?.range?.[0] ?? 0);
  }

  /** Mapping keys at `path` in source order (JavaScript objects reorder integer-like keys). */
  keysInOrder(path: KeyPath): string[] {
    const found = this.find(path);
    const node = found.complete ? this.resolve(found.value) : null;
    if (!isMap(node)) {
      return [];
    }
    return node.items.map((pair) => keyText(pair));
  }

  position(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  private find(path: KeyPath): { key: Node | null; value: Node | null; complete: boolean } {
    let key: Node | null = null;
    let value: Node | null = (this.document.contents as Node | null) ?? null;
    for (const segment of path) {
      const container = this.resolve(value);
      let next: Pair<unknown, unknown> | Node | undefined;
      if (isMap(container)) {
        // The last of several equal keys wins, as in the plain value.
        next = [...container.items].reverse().find((pair) => keyText(pair) === String(segment));
      } else if (isSeq(container) && typeof segment === 'number') {
        next = container.items[segment] as Node | undefined;
      }
      if (next === undefined) {
        return { key, value, complete: false };
      }
      if (isPair(next)) {
        key = (next.key as Node | null) ?? null;
        value = (next.value as Node | null) ?? null;
      } else {
        key = next;
        value = next;
      }
    }
    return { key, value, complete: true };
  }

  private resolve(node: Node | null): Node | null {
    if (isAlias(node)) {
      return (node.resolve(this.document) as Node | undefined) ?? null;
    }
    return node;
  }
}

function keyText(pair: Pair<unknown, unknown>): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

/**
 * Parses YAML text into a spec value. Syntax errors end parsing and are returned as the only errors.
 * Duplicate keys are reported and parsing goes on, with the last value of a repeated key kept.
 * Returns null when the text is not one YAML mapping.
 */
export function parseYaml(text: string, diagnostics: DiagnosticList): ParsedSpec | null {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, keepSourceTokens: true, uniqueKeys: false, prettyErrors: false });
  const locator = new SourceLocator(document, lineCounter);

  for (const error of document.errors) {
    const position = locator.position(error.pos[0]);
    if (error.code === 'MULTIPLE_DOCS') {
      diagnostics.error(position, [], 'invalid spec: found a second YAML document; a spec is a single document, so remove the `---` separator and what follows it');
    } else {
      diagnostics.error(position, [], `invalid YAML: ${sentence(error.message)}`);
    }
  }
  if (document.errors.length > 0) {
    return null;
  }
  for (const warning of document.warnings) {
    diagnostics.warning(locator.position(warning.pos[0]), [], `YAML: ${sentence(warning.message)}`);
  }

  const root = document.contents;
  if (!isMap(root)) {
    const got = root === null ? 'an empty document' : describeValue(document.toJS());
    diagnostics.error(
      locator.key([]),
      [],
      `invalid spec: the document must be a mapping with the sections 'Network' and 'Layers', got ${got}`,
    );
    return null;
  }

  reportDuplicateKeys(root, [], locator, diagnostics);
  const data = document.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  return { data, locator };
}

function reportDuplicateKeys(
  node: Node | null,
  path: KeyPath,
  locator: SourceLocator,
  diagnostics: DiagnosticList,
): void {
  if (isSeq(node)) {
    node.items.forEach((item, index) => reportDuplicateKeys(item as Node | null, [...path, index], locator, diagnostics));
    return;
  }
  if (!isMap(node)) {
    return;
  }
  const firstLine = new Map<string, number>();
  for (const pair of node.items) {
    const name = keyText(pair);
    const keyStart = (pair.key as Node | null)?.range?.[0] ?? 0;
    const position = locator.position(keyStart);
    const earlier = firstLine.get(name);
    if (earlier === undefined) {
      firstLine.set(name, position.line);
    } else {
      diagnostics.error(
        position,
        [...path, name],
        `duplicate key '${name}', first set on line ${earlier}; keep one of them`,
      );
    }
    reportDuplicateKeys(pair.value as Node | null, [...path, name], locator, diagnostics);
  }
}

/** Lower-cases the first letter of a parser message so it reads as part of ours, and drops a trailing period. */
function sentence(message: string): string {
  const firstLine = message.split('\n')[0].replace(/\.$/, '');
  return firstLine.charAt(0).toLowerCase() + firstLine.slice(1);
}
