/**
 * The shape of a mapping file (`mappings/<source>/<TABLE>.yaml`), as zod checks it. Rules
 * that tie several keys together live in mapping-file.ts. mappings/mapping.schema.json is
 * this schema's twin for editors; a unit test keeps their key lists equal.
 */
import { z } from 'zod';
import { DURATION_HINT, parseDuration } from '../config/duration.ts';
import { describeValue, type KeyPath } from '../util/yaml-source.ts';
import type { FieldType, UnmappedPolicy } from './types.ts';

export const FIELD_TYPES = [
  'string',
  'integer',
  'bigint',
  'decimal',
  'boolean',
  'date',
  'timestamp',
  'json',
  'bytes',
] as const satisfies readonly FieldType[];

export const UNMAPPED_POLICIES = ['ignore', 'keep', 'error'] as const satisfies readonly UnmappedPolicy[];

/** Subject tokens the envelope uses next to entity names (`<prefix>.<source>.dlq.<entity>`, `.status`). */
export const RESERVED_ENTITIES = ['dlq', 'status'] as const;

export const ENTITY_PATTERN = /^[a-z0-9_]+$/;
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: (issue) =>
    issue.input === undefined ? undefined : `expected a JSON scalar (string, number, true/false or null), got ${describeValue(issue.input)}`,
});

const stringList = z
  .union([z.string(), z.array(z.string())], {
    error: (issue) =>
      issue.input === undefined ? undefined : `expected a string or a list of strings, got ${describeValue(issue.input)}`,
  })
  .transform((value) => (typeof value === 'string' ? [value] : value));

export const fieldSpecSchema = z.strictObject({
  from: z.string().min(1),
  type: z
    .enum(FIELD_TYPES, {
      error: (issue) =>
        issue.input === undefined
          ? undefined
          : `unknown type ${JSON.stringify(issue.input)} (expected one of ${FIELD_TYPES.join(', ')})`,
    })
    .default('string'),
  trim: z.boolean().default(false),
  codes: z.record(z.string(), jsonScalar).optional(),
  default: jsonScalar.optional(),
  format: z.string().min(1).optional(),
  true: stringList.optional(),
  false: stringList.optional(),
  nullIf: stringList.optional(),
  timezone: z.string().min(1).optional(),
});

export type FieldSpecInput = z.output<typeof fieldSpecSchema>;

/** `poll: { changedColumn: UPDATED_AT, sweep: 10m }`: the hint column for polling, and how often a full checksum sweep still runs. */
export const pollHintSchema = z.strictObject({
  changedColumn: z.string().min(1),
  sweep: z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < 1) {
        ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(text)} (expected ${DURATION_HINT})` });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
});

const fieldName = z
  .string()
  .regex(FIELD_NAME_PATTERN, 'a field name must match [A-Za-z_][A-Za-z0-9_]*')
  .refine((name) => name !== '__proto__', 'reserved field name');

export const mappingFileSchema = z.strictObject({
  table: z.string().min(1),
  entity: z
    .string()
    .regex(ENTITY_PATTERN, 'an entity must match [a-z0-9_]+ (it is a subject token)')
    .refine((entity) => !(RESERVED_ENTITIES as readonly string[]).includes(entity), {
      message: `reserved: ${RESERVED_ENTITIES.join(' and ')} are subject tokens of the bridge itself`,
    }),
  key: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
      error: (issue) =>
        issue.input === undefined ? undefined : `expected a column name or a list of them, got ${describeValue(issue.input)}`,
    })
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .optional(),
  fields: z
    .record(fieldName, fieldSpecSchema)
    .refine((fields) => Object.keys(fields).length > 0, 'a mapping needs at least one field'),
  unmapped: z.enum(UNMAPPED_POLICIES).default('ignore'),
  poll: pollHintSchema.optional(),
});

export type MappingFileInput = z.output<typeof mappingFileSchema>;

const TEXT_KEYS = new Set(['from', 'nullIf', 'true', 'false']);

/**
 * Where a scalar is legacy text, taken as written: `nullIf: [00000000]` is "00000000" and
 * `false: [0]` is "0", not YAML numbers.
 */
export function isLegacyTextPath(path: KeyPath): boolean {
  const [top, , option] = path;
  if (top === 'table' || top === 'entity' || top === 'key') return true;
  if (top === 'poll') return path[1] === 'changedColumn';
  return top === 'fields' && typeof option === 'string' && TEXT_KEYS.has(option);
}
