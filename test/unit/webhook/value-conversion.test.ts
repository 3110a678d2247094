import { describe, expect, it } from 'vitest';
import { mapRow } from '../../../src/mapping/index.ts';
import { parseMapping } from '../../../src/mapping/index.ts';
import { JsonNumber, JsonTextError, parseLosslessJson, stringifyLossless, vendorRow, missingFields, PositionClock, type LosslessObject } from '../../../src/webhook/index.ts';

describe('lossless JSON for webhook bodies', () => {
  it('keeps number literals as written and everything else as JSON.parse would', () => {
    const text = '{"big": 12345678901234567890, "dec": 0.10, "exp": -1.5E+3, "s": "a\\"b\\u00e9", "t": true, "n": null, "arr": [1, {"x": 2.50}]}';
    const value = parseLosslessJson(text) as LosslessObject;
    expect((value['big'] as JsonNumber).text).toBe('12345678901234567890');
    expect((value['dec'] as JsonNumber).text).toBe('0.10');
    expect((value['exp'] as JsonNumber).text).toBe('-1.5E+3');
    expect(value['s']).toBe('a"bé');
    expect(value['t']).toBe(true);
    expect(value['n']).toBe(null);
    expect(stringifyLossless(value['arr']!)).toBe('[1,{"x":2.50}]');
    expect(Object.keys(value)).toEqual(['big', 'dec', 'exp', 's', 't', 'n', 'arr']);
  });

  it('refuses what JSON refuses, and duplicate keys', () => {
    for (const bad of ['', '{', '{"a":1,}', '[01]', '{"a": 1} x', '{"a": NaN}', '{"a":1,"a":2}', '"\u0001"', '1.', '-']) {
      expect(() => parseLosslessJson(bad), bad).toThrow(JsonTextError);
    }
  });

  it('keeps "__proto__" as a plain key', () => {
    const value = parseLosslessJson('{"__proto__": "x"}') as LosslessObject;
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});

const MAPPING = `
table: vendor.inspections
entity: inspection
key: [INSP_ID]
fields:
  inspectionId: { from: INSP_ID, type: string }
  count:        { from: CNT, type: integer }
  big:          { from: BIG, type: bigint }
  amount:       { from: AMT, type: decimal }
  passed:       { from: OK, type: boolean }
  nextDate:     { from: NEXT_DT, type: date }
  seenAt:       { from: SEEN_AT, type: timestamp }
  details:      { from: DETAILS, type: json }
  note:         { from: NOTE, type: string }
  status:       { from: STS, codes: { A: active, I: inactive } }
`;

function mapping() {
  const parsed = parseMapping('/x/INSPECTIONS.yaml', MAPPING);
  if (!('mapping' in parsed) || parsed.mapping === undefined) throw new Error(JSON.stringify(parsed));
  return parsed.mapping;
}

describe('vendor record -> SourceRow -> mapped fields', () => {
  it('converts strings, exact numbers, booleans, nulls and nested objects', () => {
    const record = parseLosslessJson(
      '{"INSP_ID": "I-1", "CNT": 7, "BIG": 12345678901234567890, "AMT": 1234.50, "OK": false, "NEXT_DT": "2024-09-02", ' +
        '"SEEN_AT": "2024-09-02T10:11:12.5+02:00", "DETAILS": {"depth": 0.10, "tags": ["a"]}, "NOTE": null, "STS": "A"}',
    ) as LosslessObject;
    const { row, columns } = vendorRow(record);
    expect(row).toMatchObject({ CNT: '7', BIG: '12345678901234567890', AMT: '1234.50', OK: 'false', NOTE: null, DETAILS: '{"depth":0.10,"tags":["a"]}' });
    expect(columns.get('AMT')?.kind).toBe('decimal');
    expect(columns.get('CNT')?.kind).toBe('integer');
    const m = mapping();
    const mapped = mapRow(m, row, columns, m.key!);
    expect(mapped).toEqual({
      ok: true,
      key: { inspectionId: 'I-1' },
      after: {
        inspectionId: 'I-1',
        count: 7,
        big: '12345678901234567890',
        amount: '1234.50',
        passed: false,
        nextDate: '2024-09-02',
        seenAt: '2024-09-02T08:11:12.500Z',
        details: { depth: 0.1, tags: ['a'] },
        note: null,
        status: 'active',
      },
    });
  });

  it('names the field of a bad value and of a missing one', () => {
    const m = mapping();
    const record = parseLosslessJson('{"INSP_ID": "I-1", "CNT": 1.5, "NEXT_DT": "2024-02-31"}') as LosslessObject;
    const { row, columns } = vendorRow(record);
    const mapped = mapRow(m, { ...row, BIG: null, AMT: null, OK: null, SEEN_AT: null, DETAILS: null, NOTE: null, STS: null }, columns, m.key!);
    expect(mapped).toEqual({ ok: false, error: expect.stringMatching(/^field count \(column CNT\): "1.5" is not an integer/) });
    const dateOnly = mapRow(m, { ...row, CNT: '1', BIG: null, AMT: null, OK: null, SEEN_AT: null, DETAILS: null, NOTE: null, STS: null }, columns, m.key!);
    expect(dateOnly).toEqual({ ok: false, error: expect.stringMatching(/^field nextDate \(column NEXT_DT\): invalid date "2024-02-31"/) });
    expect(missingFields(m, record, false)).toContain('field note (NOTE): missing from the body');
    expect(missingFields(m, parseLosslessJson('{"CNT": 1}') as LosslessObject, true)).toEqual(['field inspectionId (INSP_ID): missing from the body (a key field)']);
  });
});

describe('webhook positions', () => {
  it('sort in arrival order, also within one millisecond and when the clock steps back', () => {
    const times = [1000, 1000, 1000, 999, 1001];
    const clock = new PositionClock(() => times.shift()!);
    const positions = Array.from({ length: 5 }, () => clock.next());
    expect(positions[0]).toBe('0000000001000-00000000');
    expect([...positions].sort()).toEqual(positions);
    expect(new Set(positions).size).toBe(5);
  });
});
