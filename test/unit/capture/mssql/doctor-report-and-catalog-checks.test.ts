// What the SQL Server and Oracle doctors and catalogs share (capture/shared-doctor.ts and
// capture/shared-catalog.ts): the doctor's report frame around a session, and the checks of
// mapped tables and key columns once a catalog is read.
import { describe, expect, it } from 'vitest';
import { classifyMssqlError, quoteTable } from '../../../../capture/mssql/connection.ts';
import { requireMappedTables, resolveKeyColumns } from '../../../../capture/shared-catalog.ts';
import { runDoctor } from '../../../../capture/shared-doctor.ts';
import type { Mapping } from '../../../../src/mapping/types.ts';

const WHERE = 'mssql 127.0.0.1:1433/legacy';
const classify = (error: unknown) => classifyMssqlError(error, WHERE);

function mapping(table: string, key?: string[]): Mapping {
  const [schema, tableName] = table.split('.') as [string, string];
  return { file: `mappings/${tableName}.yaml`, table, schema, tableName, entity: tableName, fields: [], unmapped: 'ignore', hash: '0', ...(key ? { key } : {}) };
}

describe('doctor report frame', () => {
  it("a failed connection is the whole report, with the driver's classified error", async () => {
    const login = Object.assign(new Error("Login failed for user 'reader'."), { code: 'ELOGIN' });
    const report = await runDoctor(WHERE, { connect: () => Promise.reject(login), close: async () => undefined, classify }, async () => true);
    expect(report).toMatchObject({ where: WHERE, method: 'none', lines: ["FAIL connect: Login failed for user 'reader'."], sql: [], ok: false });
    // A wrong password is not a lost server: capture: auto fails the attempt with SOURCE_AUTH.
    expect(report.connectError?.code).toBe('SOURCE_AUTH');
    expect(report.interrupted).toBeUndefined();

    const refused = Object.assign(new Error('Failed to connect to 127.0.0.1:1433 - connect ECONNREFUSED'), { code: 'ESOCKET' });
    const unreachable = await runDoctor(WHERE, { connect: () => Promise.reject(refused), close: async () => undefined, classify }, async () => true);
    expect(unreachable.connectError?.code).toBe('SOURCE_UNREACHABLE');
    expect(unreachable.interrupted?.code).toBe('SOURCE_UNREACHABLE');
  });

  it('the checks say whether log capture is possible; a check that throws ends the report and keeps its statements; the session is always closed', async () => {
    const closed: string[] = [];
    const session = { connect: async () => 'session', close: async (s: string) => void closed.push(s), classify };
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

  it('a check cut short by a lost server marks the report interrupted (no answer), a refused statement does not', async () => {
    const session = { connect: async () => 'session', close: async () => undefined, classify };
    const lost = await runDoctor(WHERE, session, async (_, { lines }) => {
      lines.push('ok   connected');
      throw Object.assign(new Error('Connection lost - read ECONNRESET'), { code: 'ESOCKET' });
    });
    expect(lost).toMatchObject({ method: 'none', ok: false, lines: ['ok   connected', 'FAIL Connection lost - read ECONNRESET'] });
    expect(lost.interrupted).toMatchObject({ code: 'SOURCE_UNREACHABLE', retryable: true });
    expect(lost.interrupted?.message).toContain(WHERE);

    const refused = await runDoctor(WHERE, session, async () => {
      throw Object.assign(new Error("The SELECT permission was denied on the object 'orders'"), { number: 229 });
    });
    expect(refused).toMatchObject({ method: 'none', ok: false });
    expect(refused.interrupted).toBeUndefined();
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
