import { describe, expect, it } from 'vitest';
import { compileMapping, mapRow, unmappedKeyColumns } from '../../../src/mapping/index.ts';
import type { SourceRow } from '../../../src/mapping/types.ts';
import { columnsOf, field, mappingOf } from '../../fixtures/mapping-helpers.ts';

const inspections = mappingOf(
  [
    field('bridgeId', 'BRG_ID', { trim: true }),
    field('inspection', 'INSP_NO', { type: 'integer' }),
    field('nextDate', 'NEXT_INSP_DT', { type: 'date', format: 'yyyyMMdd', nullIf: ['0', '00000000'] }),
    field('status', 'CODE_STS', { codes: { A: 'active', I: 'inactive', X: 'closed' }, default: 'unknown' }),
  ],
  { key: ['BRG_ID', 'INSP_NO'] },
);
const columns = columnsOf({ BRG_ID: 'text', INSP_NO: 'integer', NEXT_INSP_DT: 'integer', CODE_STS: 'text', NOTE: 'text' });
const row: SourceRow = { BRG_ID: 'B-1042  ', INSP_NO: '3', NEXT_INSP_DT: '20240902', CODE_STS: 'A' };

describe('mapRow', () => {
  it('maps a row into key and after, fields in the order written', () => {
    const result = mapRow(inspections, row, columns, []);
    expect(result).toEqual({
      ok: true,
      key: { bridgeId: 'B-1042', inspection: 3 },
      after: { bridgeId: 'B-1042', inspection: 3, nextDate: '2024-09-02', status: 'active' },
    });
    if (result.ok) expect(Object.keys(result.after)).toEqual(['bridgeId', 'inspection', 'nextDate', 'status']);
  });

  it('orders a composite key as the key columns are listed', () => {
    const reversed = { ...inspections, key: ['INSP_NO', 'BRG_ID'] };
    const result = mapRow(reversed, row, columns, []);
    expect(result.ok && Object.keys(result.key)).toEqual(['inspection', 'bridgeId']);
  });

  it('uses the primary key from the capture when the mapping sets no key', () => {
    const { key: _unused, ...noKey } = inspections;
    expect(mapRow(noKey, row, columns, ['INSP_NO'])).toMatchObject({ ok: true, key: { inspection: 3 } });
    expect(mapRow(noKey, row, columns, ['BRG_ID'])).toMatchObject({ ok: true, key: { bridgeId: 'B-1042' } });
  });

  it('takes the first field mapping a key column', () => {
    const twice = mappingOf([field('raw', 'ID'), field('id', 'ID', { type: 'integer' })], { key: ['ID'] });
    expect(mapRow(twice, { ID: '7' }, columnsOf({ ID: 'integer' }), [])).toEqual({
      ok: true,
      key: { raw: '7' },
      after: { raw: '7', id: 7 },
    });
  });

  it('refuses a key value that maps to null', () => {
    expect(mapRow(inspections, { ...row, BRG_ID: null }, columns, [])).toEqual({
      ok: false,
      error: 'field bridgeId (column BRG_ID): a key value cannot be null',
    });
  });

  it('names a key column that no field maps', () => {
    const { key: _unused, ...noKey } = inspections;
    expect(unmappedKeyColumns(noKey, ['BRG_ID', 'ROWID'])).toEqual(['ROWID']);
    expect(mapRow(noKey, row, columns, ['ROWID'])).toEqual({
      ok: false,
      error: 'key column "ROWID" is not mapped by any field of /mappings/test/T.yaml',
    });
  });

  it('needs a key', () => {
    const { key: _unused, ...noKey } = inspections;
    const result = mapRow(noKey, row, columns, []);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain('has no primary key and the mapping sets no key');
  });

  it('reports a column missing from the row (dropped or renamed)', () => {
    const { NEXT_INSP_DT: _dropped, ...withoutColumn } = row;
    expect(mapRow(inspections, withoutColumn, columns, [])).toEqual({
      ok: false,
      error: 'field nextDate: column "NEXT_INSP_DT" is not in the source row (dropped or renamed?)',
    });
  });

  it('does not mistake object prototype members for columns', () => {
    const odd = mappingOf([field('id', 'ID'), field('s', 'toString'), field('p', '__proto__')], { key: ['ID'] });
    expect(mapRow(odd, { ID: '1' }, columnsOf({}), [])).toEqual({
      ok: false,
      error: 'field s: column "toString" is not in the source row (dropped or renamed?)',
    });
    const withProto: SourceRow = { ID: '1', toString: 'a' };
    Object.defineProperty(withProto, '__proto__', { value: 'b', enumerable: true });
    expect(mapRow(odd, withProto, columnsOf({}), [])).toMatchObject({ ok: true, after: { id: '1', s: 'a', p: 'b' } });
  });

  it('reports only the first error of a row, in field order', () => {
    const result = mapRow(inspections, { ...row, INSP_NO: 'x', NEXT_INSP_DT: '20241341', CODE_STS: 'A' }, columns, []);
    expect(result).toEqual({ ok: false, error: 'field inspection (column INSP_NO): "x" is not an integer' });
    const second = mapRow(inspections, { ...row, NEXT_INSP_DT: '20241341' }, columns, []);
    expect(second).toEqual({ ok: false, error: 'field nextDate (column NEXT_INSP_DT): invalid date "20241341" for format yyyyMMdd' });
  });

  it('treats a column absent from the column map as text', () => {
    expect(mapRow(inspections, row, new Map(), [])).toMatchObject({ ok: true });
  });
});

describe('unmapped columns', () => {
  const base = [field('id', 'ID', { type: 'integer' })];
  const extraRow: SourceRow = { ID: '1', NOTE: 'n  ', BLOB: new Uint8Array([104, 105]), GONE: null };
  const cols = columnsOf({ ID: 'integer', NOTE: 'text', BLOB: 'bytes', GONE: 'text' });

  it('ignore: drops them', () => {
    expect(mapRow(mappingOf(base, { key: ['ID'], unmapped: 'ignore' }), extraRow, cols, [])).toEqual({
      ok: true,
      key: { id: 1 },
      after: { id: 1 },
    });
  });

  it('keep: puts them under extra, as text or base64, null kept', () => {
    expect(mapRow(mappingOf(base, { key: ['ID'], unmapped: 'keep' }), extraRow, cols, [])).toEqual({
      ok: true,
      key: { id: 1 },
      after: { id: 1, extra: { NOTE: 'n  ', BLOB: 'aGk=', GONE: null } },
    });
  });

  it('keep: an empty extra when every column is mapped', () => {
    expect(mapRow(mappingOf(base, { key: ['ID'], unmapped: 'keep' }), { ID: '1' }, cols, [])).toMatchObject({
      after: { id: 1, extra: {} },
    });
  });

  it('error: names them', () => {
    expect(mapRow(mappingOf(base, { key: ['ID'], unmapped: 'error' }), extraRow, cols, [])).toEqual({
      ok: false,
      error: 'unmapped columns "NOTE", "BLOB", "GONE" (the mapping says unmapped: error)',
    });
    expect(mapRow(mappingOf(base, { key: ['ID'], unmapped: 'error' }), { ID: '1' }, cols, [])).toMatchObject({ ok: true });
  });
});

describe('compileMapping', () => {
  it('gives a mapper that does not change its inputs and can be reused', () => {
    const mapper = compileMapping(inspections, []);
    const input = { ...row };
    const first = mapper(input, columns);
    expect(input).toEqual(row);
    expect(mapper({ ...row, CODE_STS: 'Q' }, columns)).toMatchObject({ ok: true, after: { status: 'unknown' } });
    expect(mapper(input, columns)).toEqual(first);
  });
});
