/**
 * A YAML file parsed with positions, so every problem found in it — syntax, shape, a bad
 * value — is reported as `FILE:LINE:COL: KEYPATH: message`, pointing at the exact node.
 *
 * Flow: `parseYamlSource` -> `toPlain()` (plain JS, duplicate keys found here) -> validate
 * (zod, `validateWithSchema`) -> `issue()` for any further check, located by key path.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { z } from 'zod';

export type KeyPath = readonly (string | number)[];

export interface Position {
  line: number;
  col: number;
}

/** Where an issue points: the value at the path, the key naming it, or the mapping that holds (or lacks) it. */
export type IssueTarget = 'value' | 'key' | 'parent';

export interface SourceIssue extends Position {
  /** `FILE:LINE:COL: KEYPATH: message` */
  text: string;
  /** The key path, formatted (`sources[0].url`); '' for the document itself. */
  keyPath: string;
}

const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

/** `sources[0].poll.interval`, `fields.status.codes["A B"]` */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

export function formatIssue(file: string, position: Position, path: KeyPath, message: string): string {
  const keyPath = formatKeyPath(path);
  return `${file}:${position.line}:${position.col}: ${keyPath === '' ? '' : `${keyPath}: `}${message}`;
}

export interface ToPlainOptions {
  /**
   * Paths whose scalars are taken as the text written, not as YAML resolves them: legacy
   * values such as `nullIf: [00000000]` must stay "00000000", not become the number 0.
   */
  textAt?: (path: KeyPath) => boolean;
}

/** Alias expansions allowed in one document: stops "billion laughs" documents. */
const MAX_ALIAS_EXPANSIONS = 1000;

export class YamlSource {
  readonly file: string;
  /** Syntax errors, already formatted; when not empty, the document is not usable. */
  readonly syntaxErrors: SourceIssue[];
  private readonly doc: Document.Parsed;
  private readonly lineCounter: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.lineCounter = new LineCounter();
    // Duplicate keys are found in toPlain(), where the key path is known for the message.
    this.doc = parseDocument(text, { lineCounter: this.lineCounter, uniqueKeys: false, prettyErrors: false });
    this.syntaxErrors = [...this.doc.errors].map((error) => {
      const offset = error.pos[0];
      const position = this.positionAt(offset);
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      return { ...position, keyPath: '', text: formatIssue(file, position, [], message) };
    });
  }

  positionAt(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, col };
  }

  /** Formatted issue pointing at the node for `path` (or its nearest existing ancestor). */
  issue(path: KeyPath, message: string, target: IssueTarget = 'value'): SourceIssue {
    return this.issueAt(this.locate(path, target), path, message);
  }

  issueAt(position: Position, path: KeyPath, message: string): SourceIssue {
    return { ...position, keyPath: formatKeyPath(path), text: formatIssue(this.file, position, path, message) };
  }

  /**
   * Position of the node at `path`. 'key' points at the key of the last segment, 'parent'
   * at the mapping that should hold the last segment (for a missing key).
   */
  locate(path: KeyPath, target: IssueTarget = 'value'): Position {
    const walkPath = target === 'parent' ? path.slice(0, -1) : path;
    let node: unknown = this.doc.contents;
    let position = this.nodePosition(node) ?? { line: 1, col: 1 };
    for (let i = 0; i < walkPath.length; i++) {
      node = isAlias(node) ? node.resolve(this.doc) : node;
      const segment = walkPath[i];
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && keyText(item.key) === String(segment));
        if (pair === undefined) return position;
        if (i === walkPath.length - 1 && target === 'key') return this.nodePosition(pair.key) ?? position;
        position = this.nodePosition(pair.value) ?? this.nodePosition(pair.key) ?? position;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        node = node.items[segment];
        position = this.nodePosition(node) ?? position;
      } else {
        return position;
      }
    }
    return position;
  }

  private nodePosition(node: unknown): Position | undefined {
    if (node === null || node === undefined || !hasRange(node)) return undefined;
    // `key:` with nothing after it: yaml gives an empty scalar placed after the colon.
    if (isScalar(node) && node.value === null && node.source === '') return undefined;
    return this.positionAt(node.range[0]);
  }

  /** The document as plain JS (objects, arrays, scalars); duplicate or complex keys are issues. */
  toPlain(options: ToPlainOptions = {}): { value: unknown; issues: SourceIssue[] } {
    const issues: SourceIssue[] = [];
    let aliases = 0;
    const textAt = options.textAt ?? (() => false);
    const convert = (node: unknown, path: (string | number)[]): unknown => {
      if (node === null || node === undefined) return null;
      if (isAlias(node)) {
        if (++aliases > MAX_ALIAS_EXPANSIONS) {
          issues.push(this.issue(path, 'too many alias expansions'));
          return null;
        }
        return convert(node.resolve(this.doc), path);
      }
      if (isScalar(node)) {
        if (node.value !== null && typeof node.source === 'string' && node.type === 'PLAIN' && textAt(path)) {
          return node.source;
        }
        return node.value;
      }
      if (isMap(node)) {
        const out: Record<string, unknown> = {};
        const firstLine = new Map<string, number>();
        for (const item of node.items) {
          if (!isPair(item) || !isScalar(item.key)) {
            const at = item.key !== null && hasRange(item.key) ? this.positionAt(item.key.range[0]) : this.locate(path);
            issues.push(this.issueAt(at, path, 'keys must be plain scalars'));
            continue;
          }
          const key = keyText(item.key);
          const childPath = [...path, key];
          const seenAt = firstLine.get(key);
          if (seenAt !== undefined) {
            const at = this.positionAt(item.key.range?.[0] ?? 0);
            issues.push(this.issueAt(at, childPath, `duplicate key (first at line ${seenAt})`));
            continue;
          }
          firstLine.set(key, this.positionAt(item.key.range?.[0] ?? 0).line);
          // defineProperty: a key named "__proto__" must stay a plain key.
          Object.defineProperty(out, key, {
            value: convert(item.value, childPath),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      if (isSeq(node)) return node.items.map((item, index) => convert(item, [...path, index]));
      return null;
    };
    const value = convert(this.doc.contents, []);
    return { value, issues: sortIssues(issues) };
  }
}

export function parseYamlSource(file: string, text: string): YamlSource {
  return new YamlSource(file, text);
}

function hasRange(node: unknown): node is YamlNode & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as { range?: unknown }).range);
}

function keyText(key: { value: unknown; source?: unknown }): string {
  // The text written, not YAML's resolution: `01:` is the key "01", not 1.
  return typeof key.source === 'string' ? key.source : String(key.value);
}

export function sortIssues(issues: SourceIssue[]): SourceIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

// ---------------------------------------------------------------------------------------
// zod issues -> positioned messages

const knownKeysOf = new WeakMap<object, string[]>();

/** "a string", "a list", "a mapping"...: what a YAML value is, for messages. */
export function describeValue(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  switch (typeof input) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(input) ? 'a number' : 'a decimal number';
    case 'boolean':
      return `${input}`;
    case 'object':
      return input instanceof Uint8Array ? 'binary data' : 'a mapping';
    default:
      return typeof input;
  }
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'null':
      return 'null';
    default:
      return expected;
  }
}

export function quoteValue(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(shown);
}

type RawIssue = z.core.$ZodRawIssue;

/** Error map giving every zod issue a message in this project's words. */
function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'missing required key';
      const expected = expectedName(String(issue.expected));
      if (issue.expected === 'int' && typeof issue.input === 'number') return `expected an integer, got ${issue.input}`;
      return `expected ${expected}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_value': {
      if (issue.input === undefined) return 'missing required key';
      const values = issue.values.map((v) => String(v));
      if (values.length === 1) return `must be ${values[0]} (got ${quoteValue(issue.input)})`;
      return `must be one of ${values.join(', ')} (got ${quoteValue(issue.input)})`;
    }
    case 'unrecognized_keys': {
      const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
      if (shape !== undefined && typeof issue.input === 'object' && issue.input !== null) {
        knownKeysOf.set(issue.input, Object.keys(shape));
      }
      return 'unknown key';
    }
    case 'too_small': {
      if (issue.origin === 'array') return Number(issue.minimum) <= 1 ? 'must not be empty' : `needs at least ${issue.minimum} items`;
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'object' || issue.origin === 'record') return 'must not be empty';
      return `must be ${issue.inclusive === false ? '>' : '>='} ${issue.minimum} (got ${String(issue.input)})`;
    }
    case 'too_big': {
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `must be ${issue.inclusive === false ? '<' : '<='} ${issue.maximum} (got ${String(issue.input)})`;
    }
    case 'invalid_union': {
      const expected = new Set<string>();
      for (const branch of issue.errors) {
        for (const inner of branch) {
          if (inner.code === 'invalid_type' && inner.path.length === 0) expected.add(expectedName(String(inner.expected)));
        }
      }
      if (issue.input === undefined) return 'missing required key';
      if (expected.size > 0) return `expected ${[...expected].join(' or ')}, got ${describeValue(issue.input)}`;
      return 'invalid value';
    }
    default:
      return undefined;
  }
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `unknown`, when close enough to be a likely typo. */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === unknown.toLowerCase() ? 0 : editDistance(unknown, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(unknown.length / 3));
  return bestDistance <= limit ? best : undefined;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = suggestKey(key, known);
  return suggestion === undefined ? 'unknown key' : `unknown key (did you mean "${suggestion}"?)`;
}

function toSourceIssues(source: YamlSource, data: unknown, error: z.ZodError, basePath: KeyPath): SourceIssue[] {
  const out: SourceIssue[] = [];
  for (const issue of error.issues) {
    const path = [...basePath, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      const holder = valueAt(data, issue.path as PropertyKey[]);
      const known = typeof holder === 'object' && holder !== null ? knownKeysOf.get(holder) ?? [] : [];
      for (const key of issue.keys) out.push(source.issue([...path, key], unknownKeyMessage(key, known), 'key'));
    } else if (issue.code === 'invalid_key') {
      const inner = issue.issues[0];
      out.push(source.issue(path, inner?.message ?? issue.message, 'key'));
    } else if (issue.message.startsWith('missing required key')) {
      out.push(source.issue(path, issue.message, 'parent'));
    } else {
      out.push(source.issue(path, issue.message, 'value'));
    }
  }
  return out;
}

/**
 * Validates `data` (from `source.toPlain()`, or a part of it at `basePath`) against a zod
 * schema; issues come back located in the YAML file.
 */
export function validateWithSchema<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  data: unknown,
  basePath: KeyPath = [],
): { ok: true; value: z.output<S> } | { ok: false; issues: SourceIssue[] } {
  const result = schema.safeParse(data, { error: issueMessage });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: sortIssues(toSourceIssues(source, data, result.error, basePath)) };
}
