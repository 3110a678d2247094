/**
 * Reads one mapping file into a Mapping, or into errors that each say
 * `FILE:LINE:COL: KEYPATH: what is wrong`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HmsSyncError } from '../errors.ts';
import { parseYamlSource, sortIssues, validateWithSchema, type SourceIssue, type YamlSource } from '../util/yaml-source.ts';
import { compileLegacyFormat, FormatError } from './formats.ts';
import { isLegacyTextPath, mappingFileSchema, type FieldSpecInput, type MappingFileInput } from './mapping-schema.ts';
import { isValidTimeZone } from './time-zone.ts';
import type { FieldSpec, Mapping } from './types.ts';

export interface MappingParseResult {
  /** Set only when there are no errors. */
  mapping?: Mapping;
  errors: HmsSyncError[];
}

function mappingErrors(issues: SourceIssue[]): HmsSyncError[] {
  return sortIssues(issues).map((issue) => new HmsSyncError('MAPPING', issue.text));
}

/** Errors that need more than one key to see. */
function crossChecks(source: YamlSource, input: MappingFileInput): SourceIssue[] {
  const issues: SourceIssue[] = [];
  const at = (path: (string | number)[], message: string, target: 'key' | 'value' = 'value') =>
    issues.push(source.issue(path, message, target));

  if (input.table.indexOf('.') <= 0 || input.table.endsWith('.')) {
    at(['table'], 'table must be schema-qualified (e.g. public.inspections)');
  }

  for (const [name, spec] of Object.entries(input.fields)) {
    const base = ['fields', name];
    if (spec.format !== undefined) {
      if (spec.type !== 'date' && spec.type !== 'timestamp') {
        at([...base, 'format'], `format applies only to type date or timestamp (this field is ${spec.type})`, 'key');
      } else {
        try {
          compileLegacyFormat(spec.format);
        } catch (error) {
          if (!(error instanceof FormatError)) throw error;
          at([...base, 'format'], error.message);
        }
      }
    }
    if (spec.true !== undefined || spec.false !== undefined) {
      const option = spec.true !== undefined ? 'true' : 'false';
      if (spec.type !== 'boolean') {
        at([...base, option], `true/false apply only to type boolean (this field is ${spec.type})`, 'key');
      } else if (spec.true === undefined || spec.false === undefined) {
        at([...base, option], `give both true: and false: (a value in neither is an error, never a guess)`, 'key');
      } else {
        const overlap = spec.true.filter((value) => spec.false!.includes(value));
        if (overlap.length > 0) at([...base, 'false'], `${JSON.stringify(overlap[0])} is listed in both true and false`);
      }
    }
    if (spec.timezone !== undefined) {
      if (spec.type !== 'timestamp') {
        at([...base, 'timezone'], `timezone applies only to type timestamp (this field is ${spec.type})`, 'key');
      } else if (!isValidTimeZone(spec.timezone)) {
        at([...base, 'timezone'], `unknown time zone ${JSON.stringify(spec.timezone)} (expected an IANA name such as America/Chicago)`);
      }
    }
    if (spec.default !== undefined && spec.codes === undefined) {
      at([...base, 'default'], 'default applies to values not listed in codes: this field has no codes', 'key');
    }
  }

  if (input.unmapped === 'keep' && Object.hasOwn(input.fields, 'extra')) {
    at(['fields', 'extra'], 'unmapped: keep puts the unmapped columns under "extra": rename this field', 'key');
  }

  if (input.key !== undefined) {
    const mapped = new Set(Object.values(input.fields).map((spec) => spec.from));
    const seen = new Set<string>();
    input.key.forEach((column, index) => {
      if (seen.has(column)) at(['key', index], `column "${column}" is listed twice`);
      seen.add(column);
      if (!mapped.has(column)) at(['key', index], `key column "${column}" is not mapped by any field (no field has from: ${column})`);
    });
  }
  return issues;
}

function toFieldSpec(name: string, spec: FieldSpecInput, line: number): FieldSpec {
  return {
    name,
    from: spec.from,
    type: spec.type,
    trim: spec.trim,
    ...(spec.codes !== undefined && { codes: spec.codes }),
    ...(spec.default !== undefined && { default: spec.default }),
    ...(spec.format !== undefined && { format: spec.format }),
    ...(spec.true !== undefined && { trueValues: spec.true }),
    ...(spec.false !== undefined && { falseValues: spec.false }),
    ...(spec.nullIf !== undefined && { nullIf: spec.nullIf }),
    ...(spec.timezone !== undefined && { timezone: spec.timezone }),
    line,
  };
}

/**
 * Parses a mapping file's bytes. `file` is used as given in messages (relative stays
 * relative); Mapping.file is its absolute form.
 */
export function parseMapping(file: string, content: Uint8Array | string): MappingParseResult {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const text = typeof content === 'string' ? content : new TextDecoder('utf-8').decode(content);
  const source = parseYamlSource(file, text);
  if (source.syntaxErrors.length > 0) return { errors: mappingErrors(source.syntaxErrors) };

  const plain = source.toPlain({ textAt: isLegacyTextPath });
  if (plain.issues.length > 0) return { errors: mappingErrors(plain.issues) };
  if (plain.value === null || typeof plain.value !== 'object' || Array.isArray(plain.value)) {
    return { errors: mappingErrors([source.issue([], 'a mapping file must be a YAML mapping with table, entity and fields')]) };
  }

  const validated = validateWithSchema(source, mappingFileSchema, plain.value);
  if (!validated.ok) return { errors: mappingErrors(validated.issues) };
  const input = validated.value;
  const issues = crossChecks(source, input);
  if (issues.length > 0) return { errors: mappingErrors(issues) };

  const dot = input.table.indexOf('.');
  const mapping: Mapping = {
    file: path.resolve(file),
    table: input.table,
    schema: input.table.slice(0, dot),
    tableName: input.table.slice(dot + 1),
    entity: input.entity,
    ...(input.key !== undefined && { key: input.key }),
    fields: Object.entries(input.fields).map(([name, spec]) =>
      toFieldSpec(name, spec, source.locate(['fields', name], 'key').line),
    ),
    unmapped: input.unmapped,
    ...(input.poll !== undefined && {
      poll: { changedColumn: input.poll.changedColumn, ...(input.poll.sweep !== undefined && { sweepMs: input.poll.sweep }) },
    }),
    hash: createHash('sha256').update(bytes).digest('hex').slice(0, 12),
  };
  return { mapping, errors: [] };
}

/** Reads and parses one mapping file; throws HmsSyncError('MAPPING') listing every problem, one per line. */
export async function loadMappingFile(file: string): Promise<Mapping> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new HmsSyncError('MAPPING', `${file}: cannot read mapping file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      cause: error,
    });
  }
  const result = parseMapping(file, bytes);
  if (result.mapping === undefined) {
    throw new HmsSyncError('MAPPING', result.errors.map((error) => error.message).join('\n'), { cause: result.errors[0] });
  }
  return result.mapping;
}
