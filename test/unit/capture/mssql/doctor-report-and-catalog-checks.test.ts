// What the SQL Server and Oracle doctors and catalogs share (capture/shared-doctor.ts and
// capture/shared-catalog.ts): the doctor's report frame around a session, and the checks of
// mapped tables and key columns once a catalog is read.
import { describe, expect, it } from 'vitest';
import { quoteTable } from '../../../../capture/mssql/connection.ts';
import { requireMappedTables, resolveKeyColumns } from '../../../../capture/shared-catalog.ts';
import { runDoctor } from '../../../../capture/shared-doctor.ts';
import type { Mapping } from '../../../../src/mapping/types.ts';

const WHERE = 'mssql 127.0.0.1:1433/legacy';

function mapping(table: string, key?: string[]): Mapping {
  const [schema, tableName] = table.split('.') as [string, string];
  return { file: `mappings/${tableName}.yaml`, table, schema, tableName, entity: tableName, fields: [], unmapped: 'ignore', hash: '0', ...(key ? { key } : {}) };
}

describe('doctor report frame', () => {
  it('a failed connection is the whole report', async () => {
    const report = await runDoctor(WHERE, { connect: () => Promise.reject(new Error('Login failed')), close: async () => undefined }, async () => true);
    expect(report).toEqual({ where: WHERE, method: 'none', lines: ['FAIL connect: Login failed'], sql: [], ok: false });
  });

  it('the checks say whether log capture is possible; a check that throws ends the report and keeps its statements; the session is always closed', async () => {
    const closed: string[] = [];
    const session = { connect: async () => 'session', close: async (s: string) => void closed.push(s) };
    const ok = await runDoctor(WHERE, session, async (_, { lines }) => {
      lines.push('ok   connected');
      return true;
    });
    expect(ok).toEqual({ where: WHERE, method: 'log', lines: ['ok   connected'], sql: [], ok: true });

    const failed = await runDoctor(WHERE, { ...session, close: () => Promise.reject(new Error('already closed')) }, async (_, { lines, sql }) => {
      lines.push('ok   connected');
      sql.push('GRANT SELECT ON [dbo].[orders] TO [reader];');
      throw new Error('table dbo.orders not found');
    });
    expect(failed).toEqual({
      where: WHERE,
      method: 'none',
      lines: ['ok   connected', 'FAIL table dbo.orders not found'],
      sql: ['GRANT SELECT ON [dbo].[orders] TO [reader];'],
      ok: false,
    });
    expect(closed).toEqual(['session']);
  });
});

describe('catalog checks', () => {
  it('names every mapped table the catalog did not list, with the GRANT that would show it', () => {
    const mappings = [mapping('dbo.orders'), mapping('dbo.lines'), mapping('sales.items')];
    expect(() => requireMappedTables(mappings, new Map([['dbo.orders', {}]]), WHERE, { matching: 'names are matched exactly', quoteTable })).toThrow(
      expect.objectContaining({
        code: 'SOURCE_PRIVILEGE',
        retryable: true,
        message:
          `mappings/lines.yaml: table dbo.lines not found in ${WHERE} (names are matched exactly; a table the account may not read is not listed either: ` +
          `a DBA can run GRANT SELECT ON [dbo].[lines] TO <bridge user>;); ` +
          `mappings/items.yaml: table sales.items not found in ${WHERE} (names are matched exactly; a table the account may not read is not listed either: ` +
          `a DBA can run GRANT SELECT ON [sales].[items] TO <bridge user>;)`,
      }),
    );
    expect(() => requireMappedTables(mappings.slice(0, 1), new Map([['dbo.orders', {}]]), WHERE, { matching: 'x', quoteTable })).not.toThrow();
  });

  it('takes the mapping key or the primary key, and names every key column the table lacks', () => {
    const table = { primaryKey: ['id'], columns: [{ name: 'id' }, { name: 'line' }] };
    expect(resolveKeyColumns(mapping('dbo.orders'), table)).toEqual(['id']);
    expect(resolveKeyColumns(mapping('dbo.orders', ['id', 'line']), table)).toEqual(['id', 'line']);
    expect(() => resolveKeyColumns(mapping('dbo.orders', ['id', 'no', 'nor']), table)).toThrow('mappings/orders.yaml: key column no, nor is not a column of dbo.orders');
    expect(() => resolveKeyColumns(mapping('dbo.orders'), { primaryKey: [], columns: [] })).toThrow(
      'mappings/orders.yaml: table dbo.orders has no primary key; name its key columns with "key:"',
    );
  });
});
