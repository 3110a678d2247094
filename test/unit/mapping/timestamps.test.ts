// The machine's zone must not matter: run this file in a zone with a 45-minute offset.
process.env.TZ = 'Asia/Kathmandu';

import { describe, expect, it } from 'vitest';
import { mapRow, type MapOptions } from '../../../src/mapping/index.ts';
import type { FieldSpec, SourceColumnKind, SourceValue } from '../../../src/mapping/types.ts';
import { columnsOf, field, mappingOf } from '../../fixtures/mapping-helpers.ts';

function mapOne(spec: Partial<FieldSpec>, value: SourceValue, kind: SourceColumnKind, options?: MapOptions) {
  const mapping = mappingOf([field('id', 'ID'), field('ts', 'TS', { type: 'timestamp', ...spec })]);
  return mapRow(mapping, { ID: '1', TS: value }, columnsOf({ ID: 'integer', TS: kind }), ['ID'], options);
}

function iso(value: string, kind: SourceColumnKind, spec: Partial<FieldSpec> = {}, options?: MapOptions): unknown {
  const result = mapOne(spec, value, kind, options);
  if (!result.ok) throw new Error(result.error);
  return result.after.ts;
}

function error(value: string, kind: SourceColumnKind, spec: Partial<FieldSpec> = {}): string {
  const result = mapOne(spec, value, kind);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.after.ts)}`);
  return result.error;
}

describe('the test runs in a non-UTC machine zone', () => {
  it('has TZ in effect', () => {
    expect(new Date('2024-01-01T00:00:00Z').getTimezoneOffset()).toBe(-345);
  });
});

describe('timestamptz: converted to UTC from the offset the value carries', () => {
  it.each([
    ['2024-03-10 01:59:59.123456-05', '2024-03-10T06:59:59.123456Z'],
    ['2024-01-01 00:30:00+05:30', '2023-12-31T19:00:00.000Z'],
    ['2024-09-02 14:00:00+00', '2024-09-02T14:00:00.000Z'],
    ['2024-09-02 14:00:00.5+02', '2024-09-02T12:00:00.500Z'],
    ['2024-09-02 14:00:00.123+02', '2024-09-02T12:00:00.123Z'],
    ['2024-09-02 14:00:00.123000+02', '2024-09-02T12:00:00.123Z'],
    ['2024-09-02 14:00:00.000001-00', '2024-09-02T14:00:00.000001Z'],
    ['2024-12-31 23:59:59.999999-10', '2025-01-01T09:59:59.999999Z'],
    ['2024-02-28 23:00:00-01', '2024-02-29T00:00:00.000Z'],
    ['1900-01-01 00:00:00+00:19:32', '1899-12-31T23:40:28.000Z'],
    ['2024-09-02T14:00:00Z', '2024-09-02T14:00:00.000Z'],
  ])('%s -> %s', (text, expected) => {
    expect(iso(text, 'timestamptz')).toBe(expected);
  });

  it('never rounds: 7 and 9 fraction digits are kept whole', () => {
    expect(iso('2024-09-02 14:00:00.1234567+00', 'timestamptz')).toBe('2024-09-02T14:00:00.123456700Z');
    expect(iso('2024-09-02 14:00:00.999999999+00', 'timestamptz')).toBe('2024-09-02T14:00:00.999999999Z');
  });

  it('the value\'s offset wins over the field\'s timezone', () => {
    expect(iso('2024-07-01 12:00:00+00', 'timestamptz', { timezone: 'America/Chicago' })).toBe('2024-07-01T12:00:00.000Z');
  });
});

describe('zone-less timestamps', () => {
  it('are UTC without a timezone', () => {
    expect(iso('2024-09-02 10:00:00', 'timestamp')).toBe('2024-09-02T10:00:00.000Z');
  });

  it('are wall time in the field\'s timezone, standard and daylight time', () => {
    const chicago = { timezone: 'America/Chicago' };
    expect(iso('2024-01-15 12:00:00', 'timestamp', chicago)).toBe('2024-01-15T18:00:00.000Z');
    expect(iso('2024-07-15 12:00:00.250', 'timestamp', chicago)).toBe('2024-07-15T17:00:00.250Z');
  });

  it('around the spring-forward gap in America/Chicago (02:00 -> 03:00 on 2024-03-10)', () => {
    const chicago = { timezone: 'America/Chicago' };
    expect(iso('2024-03-10 01:59:59.999999', 'timestamp', chicago)).toBe('2024-03-10T07:59:59.999999Z');
    // 02:30 does not exist: read with the offset before the gap (CST), i.e. 03:30 CDT.
    expect(iso('2024-03-10 02:30:00', 'timestamp', chicago)).toBe('2024-03-10T08:30:00.000Z');
    expect(iso('2024-03-10 03:00:00', 'timestamp', chicago)).toBe('2024-03-10T08:00:00.000Z');
  });

  it('around the fall-back overlap in America/Chicago (02:00 -> 01:00 on 2024-11-03)', () => {
    const chicago = { timezone: 'America/Chicago' };
    expect(iso('2024-11-03 00:59:59', 'timestamp', chicago)).toBe('2024-11-03T05:59:59.000Z');
    // 01:30 happens twice: the earlier one (CDT, -05) is taken.
    expect(iso('2024-11-03 01:30:00', 'timestamp', chicago)).toBe('2024-11-03T06:30:00.000Z');
    expect(iso('2024-11-03 02:00:00', 'timestamp', chicago)).toBe('2024-11-03T08:00:00.000Z');
  });

  it('use the tz database\'s historical offsets, to the second', () => {
    // Chicago kept local mean time (-5:50:36) until 1883.
    expect(iso('1880-01-01 00:00:00', 'timestamp', { timezone: 'America/Chicago' })).toBe('1880-01-01T05:50:36.000Z');
  });

  it('take the source\'s default zone when the field has none, and the field\'s zone first', () => {
    const source = { defaultTimezone: 'Europe/Berlin' };
    expect(iso('2024-07-01 12:00:00', 'timestamp', {}, source)).toBe('2024-07-01T10:00:00.000Z');
    expect(iso('2024-07-01 12:00:00', 'timestamp', { timezone: 'UTC' }, source)).toBe('2024-07-01T12:00:00.000Z');
  });

  it('a date column is midnight in the zone', () => {
    expect(iso('2024-09-02', 'date')).toBe('2024-09-02T00:00:00.000Z');
    expect(iso('2024-09-02', 'date', { timezone: 'America/Chicago' })).toBe('2024-09-02T05:00:00.000Z');
  });
});

describe('legacy formats', () => {
  it('reads a packed legacy timestamp', () => {
    expect(iso('20240902143005', 'text', { format: 'yyyyMMddHHmmss' })).toBe('2024-09-02T14:30:05.000Z');
    expect(iso('20240902143005', 'text', { format: 'yyyyMMddHHmmss', timezone: 'America/Chicago' })).toBe(
      '2024-09-02T19:30:05.000Z',
    );
  });
  it('reads fraction digits and quoted literals', () => {
    expect(iso("2024-09-02T14:30:05.007", 'text', { format: "yyyy-MM-dd'T'HH:mm:ss.SSS" })).toBe('2024-09-02T14:30:05.007Z');
    expect(iso('02/09/2024 14:30:05.000123', 'text', { format: 'dd/MM/yyyy HH:mm:ss.SSSSSS' })).toBe(
      '2024-09-02T14:30:05.000123Z',
    );
  });
  it('a date-only format is midnight', () => {
    expect(iso('20240902', 'integer', { format: 'yyyyMMdd' })).toBe('2024-09-02T00:00:00.000Z');
  });
  it('refuses impossible times', () => {
    expect(error('20240902246000', 'text', { format: 'yyyyMMddHHmmss' })).toBe(
      'field ts (column TS): invalid timestamp "20240902246000" for format yyyyMMddHHmmss',
    );
  });
});

describe('refused', () => {
  it.each(['infinity', '-infinity', '2024-13-01 00:00:00', '2024-02-30 00:00:00', '2024-09-02 24:00:00', '0044-03-15 00:00:00 BC', 'now'])(
    '%s',
    (text) => {
      expect(error(text, 'timestamp')).toBe(
        `field ts (column TS): invalid timestamp ${JSON.stringify(text)} (expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]])`,
      );
    },
  );
  it('years outside 0001-9999 once in UTC', () => {
    expect(error('0001-01-01 00:30:00+05:30', 'timestamptz')).toBe(
      'field ts (column TS): timestamp "0001-01-01 00:30:00+05:30" is outside years 0001-9999 in UTC',
    );
    expect(error('9999-12-31 23:00:00-05', 'timestamptz')).toContain('is outside years 0001-9999');
    expect(error('0000-06-01 00:00:00', 'timestamp')).toContain('invalid timestamp');
  });
  it('bytes', () => {
    const result = mapOne({}, new Uint8Array([1]), 'bytes');
    expect(result).toEqual({ ok: false, error: 'field ts (column TS): a binary value cannot map to type timestamp (use type bytes)' });
  });
});
