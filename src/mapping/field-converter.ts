/**
 * One mapping field compiled into a function from a captured (non-null) value to its JSON
 * value: trim -> nullIf -> codes -> conversion by type. Everything that can be prepared
 * (sets, maps, format regexes, zone tables) is prepared here, once per mapping.
 */
import { formatDate, formatUtc, wallSeconds } from './civil-time.ts';
import { compileLegacyFormat, type LegacyFormat } from './formats.ts';
import { normalizeDecimal, normalizeIntegerText } from './numbers.ts';
import { checkDateText, parseTimestampText, toIsoUtc, utcDateOf } from './timestamp.ts';
import { zoneOffsets, type ZoneOffsets } from './time-zone.ts';
import type { FieldSpec, JsonValue, SourceColumnKind } from './types.ts';

/** A legacy value that cannot be mapped; the message says why (the engine adds field and column). */
export class ValueError extends Error {}

export type ValueConverter = (value: string | Uint8Array, kind: SourceColumnKind) => JsonValue;

const MAX_SHOWN = 80;

/** A value quoted for an error message, cut to 80 characters. */
export function quoteValue(value: string): string {
  return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const TRUE_TEXT = new Set(['true', 't', '1', 'y', 'yes']);
const FALSE_TEXT = new Set(['false', 'f', '0', 'n', 'no']);
const DECIMAL_SPECIAL = /^[+-]?(nan|inf|infinity)$/i;
const TIMESTAMP_FORM = 'YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]';

type TextConverter = (text: string, kind: SourceColumnKind) => JsonValue;

function textOnly(type: string, convert: TextConverter): ValueConverter {
  return (value, kind) => {
    if (typeof value !== 'string') throw new ValueError(`a binary value cannot map to type ${type} (use type bytes)`);
    return convert(value, kind);
  };
}

function integerConverter(): ValueConverter {
  return textOnly('integer', (text) => {
    const normalized = normalizeIntegerText(text);
    if (normalized === undefined) throw new ValueError(`${quoteValue(text)} is not an integer`);
    const number = Number(normalized);
    if (!Number.isSafeInteger(number)) {
      throw new ValueError(`${quoteValue(text)} is beyond a JSON-safe integer (±2^53-1): use type bigint`);
    }
    return number;
  });
}

function bigintConverter(): ValueConverter {
  return textOnly('bigint', (text) => {
    const normalized = normalizeIntegerText(text);
    if (normalized === undefined) throw new ValueError(`${quoteValue(text)} is not an integer`);
    return normalized;
  });
}

function decimalConverter(): ValueConverter {
  return textOnly('decimal', (text) => {
    const normalized = normalizeDecimal(text);
    if (normalized !== undefined) return normalized;
    if (DECIMAL_SPECIAL.test(text)) throw new ValueError(`${quoteValue(text)} is not a finite decimal number`);
    throw new ValueError(`${quoteValue(text)} is not a decimal number`);
  });
}

function booleanConverter(spec: FieldSpec): ValueConverter {
  if (spec.trueValues !== undefined || spec.falseValues !== undefined) {
    const trueValues = new Set(spec.trueValues ?? []);
    const falseValues = new Set(spec.falseValues ?? []);
    const expected = `true: ${[...trueValues].map((v) => JSON.stringify(v)).join(', ') || '-'}; false: ${
      [...falseValues].map((v) => JSON.stringify(v)).join(', ') || '-'
    }`;
    return textOnly('boolean', (text) => {
      if (trueValues.has(text)) return true;
      if (falseValues.has(text)) return false;
      throw new ValueError(`${quoteValue(text)} is not one of the mapping's boolean values (${expected})`);
    });
  }
  return textOnly('boolean', (text) => {
    const lower = text.toLowerCase();
    if (TRUE_TEXT.has(lower)) return true;
    if (FALSE_TEXT.has(lower)) return false;
    throw new ValueError(`${quoteValue(text)} is not a boolean (true/false, t/f, 1/0, y/n, yes/no)`);
  });
}

function dateConverter(format: LegacyFormat | undefined, zone: ZoneOffsets): ValueConverter {
  if (format !== undefined) {
    return textOnly('date', (text) => {
      const wall = format.parse(text);
      if (wall === undefined) throw new ValueError(`invalid date ${quoteValue(text)} for format ${format.format}`);
      return formatDate(wall.year, wall.month, wall.day);
    });
  }
  return textOnly('date', (text, kind) => {
    if (kind === 'timestamp' || kind === 'timestamptz') {
      const parsed = parseTimestampText(text);
      if (parsed === undefined) throw new ValueError(`invalid date ${quoteValue(text)} (expected ${TIMESTAMP_FORM})`);
      // A timestamp with a zone names an instant: its date is taken in UTC, like its timestamp.
      const date =
        parsed.offsetSeconds === undefined
          ? formatDate(parsed.wall.year, parsed.wall.month, parsed.wall.day)
          : utcDateOf(parsed, zone);
      if (date === undefined) throw new ValueError(`date ${quoteValue(text)} is outside years 0001-9999`);
      return date;
    }
    const date = checkDateText(text);
    if (date === undefined) throw new ValueError(`invalid date ${quoteValue(text)} (expected YYYY-MM-DD)`);
    return date;
  });
}

function timestampConverter(format: LegacyFormat | undefined, zone: ZoneOffsets): ValueConverter {
  if (format !== undefined) {
    return textOnly('timestamp', (text) => {
      const wall = format.parse(text);
      if (wall === undefined) throw new ValueError(`invalid timestamp ${quoteValue(text)} for format ${format.format}`);
      const iso = formatUtc(zone.wallToUtc(wallSeconds(wall)), wall.fraction);
      if (iso === undefined) throw new ValueError(`timestamp ${quoteValue(text)} is outside years 0001-9999 in UTC`);
      return iso;
    });
  }
  return textOnly('timestamp', (text) => {
    const parsed = parseTimestampText(text);
    if (parsed === undefined) throw new ValueError(`invalid timestamp ${quoteValue(text)} (expected ${TIMESTAMP_FORM})`);
    const iso = toIsoUtc(parsed, zone);
    if (iso === undefined) throw new ValueError(`timestamp ${quoteValue(text)} is outside years 0001-9999 in UTC`);
    return iso;
  });
}

function jsonConverter(): ValueConverter {
  return textOnly('json', (text) => {
    try {
      return JSON.parse(text) as JsonValue;
    } catch (error) {
      throw new ValueError(`invalid JSON ${quoteValue(text)} (${(error as Error).message})`);
    }
  });
}

function bytesConverter(): ValueConverter {
  return (value) => (typeof value === 'string' ? Buffer.from(value, 'utf8').toString('base64') : toBase64(value));
}

function typeConverter(spec: FieldSpec, defaultTimezone: string): ValueConverter {
  const format = spec.format === undefined ? undefined : compileLegacyFormat(spec.format);
  switch (spec.type) {
    case 'string':
      return textOnly('string', (text) => text);
    case 'integer':
      return integerConverter();
    case 'bigint':
      return bigintConverter();
    case 'decimal':
      return decimalConverter();
    case 'boolean':
      return booleanConverter(spec);
    case 'date':
      return dateConverter(format, zoneOffsets(defaultTimezone));
    case 'timestamp':
      return timestampConverter(format, zoneOffsets(spec.timezone ?? defaultTimezone));
    case 'json':
      return jsonConverter();
    case 'bytes':
      return bytesConverter();
  }
}

/**
 * The converter for one field. NULL never reaches it (NULL stays null in every type, even
 * with `codes` and `default`); it may return null itself through `nullIf`.
 */
export function compileField(spec: FieldSpec, defaultTimezone: string): ValueConverter {
  const convert = typeConverter(spec, defaultTimezone);
  const trim = spec.trim;
  const nullIf = spec.nullIf !== undefined && spec.nullIf.length > 0 ? new Set(spec.nullIf) : undefined;
  const codes = spec.codes === undefined ? undefined : new Map(Object.entries(spec.codes));
  const hasDefault = spec.default !== undefined;
  const fallback = spec.default ?? null;
  if (!trim && nullIf === undefined && codes === undefined) return convert;
  return (value, kind) => {
    if (typeof value === 'string') {
      if (trim) value = value.trim();
      if (nullIf !== undefined && nullIf.has(value)) return null;
      if (codes !== undefined) {
        const code = codes.get(value);
        if (code !== undefined) return code;
        if (hasDefault) return fallback;
        throw new ValueError(`unknown code ${quoteValue(value)} (no default)`);
      }
    } else if (codes !== undefined) {
      throw new ValueError('a binary value cannot be looked up in codes');
    }
    return convert(value, kind);
  };
}
