// Front end, all stages: the diagnostic type, its text form, and the collector each stage reports into.

export interface Diagnostic {
  file: string;
  /** 1-based line of the offending value, or of the parent key when a key is missing. */
  line: number;
  /** 1-based column. */
  column: number;
  /** Dotted key path such as `Layers.conv_1.kernel_size`; empty for document-level problems. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/** Formats a diagnostic as `FILE:LINE:COLUMN PATH: message`, with `warning: ` after the location for warnings. */
export function formatDiagnostic(d: Diagnostic): string {
  const location = `${d.file}:${d.line}:${d.column}`;
  const severity = d.severity === 'warning' ? ' warning:' : '';
  const subject = d.path === '' ? '' : ` ${d.path}:`;
  if (subject === '' && severity === '') {
    return `${location}: ${d.message}`;
  }
  return `${location}${severity}${subject} ${d.message}`;
}

/** A spec that cannot be compiled; `diagnostics` lists every error found, in source order. */
export class SpecError extends Error {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'SpecError';
    this.diagnostics = diagnostics;
  }
}

/** A key path inside the spec: mapping keys are strings, list indices are numbers. */
export type KeyPath = (string | number)[];

/** Formats a key path as `Layers.conv_1.kernel_size` or `Network.input_shape[1]`. */
export function formatPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
    } else {
      text += text === '' ? segment : `.${segment}`;
    }
  }
  return text;
}

/** 1-based source position. */
export interface Position {
  line: number;
  column: number;
}

/** Collects errors and warnings for one spec file and keeps them in source order. */
export class DiagnosticList {
  readonly items: Diagnostic[] = [];
  /** Formatted paths that have at least one error, so later stages can skip bad values. */
  private readonly errorPaths = new Set<string>();

  constructor(readonly file: string) {}

  error(position: Position, path: KeyPath, message: string): void {
    this.add('error', position, path, message);
  }

  warning(position: Position, path: KeyPath, message: string): void {
    this.add('warning', position, path, message);
  }

  /** Tells whether an error was reported at `path` or at a key below it. */
  hasErrorAt(path: KeyPath): boolean {
    const prefix = formatPath(path);
    for (const errorPath of this.errorPaths) {
      if (errorPath === prefix || errorPath.startsWith(`${prefix}.`) || errorPath.startsWith(`${prefix}[`)) {
        return true;
      }
    }
    return false;
  }

  errors(): Diagnostic[] {
    return sortBySource(this.items.filter((d) => d.severity === 'error'));
  }

  warnings(): Diagnostic[] {
    return sortBySource(this.items.filter((d) => d.severity === 'warning'));
  }

  private add(severity: Diagnostic['severity'], position: Position, path: KeyPath, message: string): void {
    const formatted = formatPath(path);
    const duplicate = this.items.some(
      (d) => d.line === position.line && d.column === position.column && d.path === formatted && d.message === message,
    );
    if (duplicate) {
      return;
    }
    this.items.push({ file: this.file, line: position.line, column: position.column, path: formatted, message, severity });
    if (severity === 'error') {
      this.errorPaths.add(formatted);
    }
  }
}

function sortBySource(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = [];
  for (let i = 0; i <= s.length; i++) {
    d.push(new Array<number>(t.length + 1).fill(0));
    d[i][0] = i;
  }
  for (let j = 0; j <= t.length; j++) {
    d[0][j] = j;
  }
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[s.length][t.length];
}

/**
 * Returns the candidate closest to `word`, or null when none is a likely typo of it.
 * A likely typo is within 2 edits (1 for words of up to 4 letters), or a prefix of the word, or the word is a prefix of it.
 */
export function nearestName(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = word.length <= 4 ? 1 : 2;
  if (best !== null && bestDistance <= allowed) {
    return best;
  }
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    if (other.length >= 3 && lower.length >= 3 && (lower.startsWith(other) || other.startsWith(lower))) {
      return candidate;
    }
  }
  return null;
}

/** Renders a spec value for a message: strings quoted, lists in brackets, mappings by kind only. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) {
    return 'an empty value';
  }
  if (typeof value === 'string') {
    const clipped = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `'${clipped}'`;
  }
  if (Array.isArray(value)) {
    if (value.length > 8) {
      return `a list of ${value.length} items`;
    }
    return `[${value.map((item) => (typeof item === 'object' && item !== null ? describeValue(item) : itemText(item))).join(', ')}]`;
  }
  if (typeof value === 'object') {
    return 'a mapping';
  }
  return String(value);
}

function itemText(item: unknown): string {
  return typeof item === 'string' ? `'${item}'` : String(item);
}

/** Formats a `[c, h, w]` shape as `c×h×w`. */
export function formatShape(shape: readonly number[]): string {
  return shape.join('×');
}
