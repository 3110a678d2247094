// The polling SQL of every dialect, as text (Oracle and SQL Server have no driver in this
// build, so their statements are checked here only), and the spelled-out key comparison that
// dialects without row values use, run against row values in SQLite to show they agree.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { mssqlSql, mysqlSql, oracleSql, postgresFastSql, postgresSql, sqliteSql } from '../../../capture/poll/index.ts';
import { buildSql } from '../../../capture/poll/sql/builder.ts';
import { sqliteFlavor } from '../../../capture/poll/sql/sqlite.ts';
import type { PollTable } from '../../../capture/poll/types.ts';

const TABLE: PollTable = {
  table: 'legacy.SEGMENTS',
  schema: 'legacy',
  name: 'SEGMENTS',
  columns: [
    { name: 'ROUTE', kind: 'text', nativeType: 'varchar' },
    { name: 'SEQ', kind: 'integer', nativeType: 'int' },
    { name: 'AT', kind: 'timestamp', nativeType: 'datetime' },
  ],
  keyColumns: ['ROUTE', 'SEQ'],
  keyIndexes: [0, 1],
  changed: { name: 'AT', kind: 'timestamp', nativeType: 'datetime' },
};

const SINGLE: PollTable = { ...TABLE, table: 'legacy.T', name: 'T', columns: [{ name: 'ID', kind: 'integer', nativeType: 'int' }, { name: 'NAME', kind: 'text', nativeType: 'text' }], keyColumns: ['ID'], keyIndexes: [0] };
const RANGE = { after: ['I-95', '3'], upTo: ['US 1', '7'] };

describe('postgres', () => {
  it('sums 64 bits of md5 over the record text, compares keys as row values, pages with LIMIT', () => {
    const h = `('x' || substr(md5(ROW("ROUTE", "SEQ", "AT")::text), 1, 16))::bit(64)::bigint`;
    const checksum = postgresSql.checksum(TABLE, RANGE);
    expect(checksum.text).toBe(`SELECT count(*) AS "n", coalesce(sum(${h}), 0)::text AS "s" FROM "legacy"."SEGMENTS" WHERE ("ROUTE", "SEQ") > ($1, $2) AND ("ROUTE", "SEQ") <= ($3, $4)`);
    expect(checksum.params).toEqual([
      { kind: 'text', value: 'I-95' },
      { kind: 'integer', value: '3' },
      { kind: 'text', value: 'US 1' },
      { kind: 'integer', value: '7' },
    ]);
    expect(postgresSql.rows(TABLE, { after: ['I-95', '3'] }, 100).text).toBe(
      `SELECT "ROUTE" AS "c0", "SEQ" AS "c1", "AT" AS "c2", ${h} AS "h" FROM "legacy"."SEGMENTS" WHERE ("ROUTE", "SEQ") > ($1, $2) ORDER BY "ROUTE", "SEQ" LIMIT 100`,
    );
    expect(postgresSql.rowsByKey(TABLE, [['a', '1'], ['b', '2']]).text).toContain(`WHERE ("ROUTE", "SEQ") IN (($1, $2), ($3, $4)) ORDER BY "ROUTE", "SEQ"`);
    expect(postgresSql.changedSince(TABLE, '2024-01-01', 50, { hint: '2024-01-02', key: ['x', '1'] }).text).toContain(
      `"AT" AS "w" FROM "legacy"."SEGMENTS" WHERE "AT" >= $1 AND ("AT", "ROUTE", "SEQ") > ($2, $3, $4) ORDER BY "AT", "ROUTE", "SEQ" LIMIT 50`,
    );
    expect(postgresSql.maxChanged(TABLE).text).toBe(`SELECT max("AT")::text AS "m" FROM "legacy"."SEGMENTS"`);
    // No bound, no WHERE: the whole table in one statement.
    expect(postgresSql.checksum(SINGLE, {}).text).toBe(
      `SELECT count(*) AS "n", coalesce(sum(('x' || substr(md5(ROW("ID", "NAME")::text), 1, 16))::bit(64)::bigint), 0)::text AS "s" FROM "legacy"."T"`,
    );
    expect(postgresSql.rows(SINGLE, { after: ['10'], upTo: ['20'] }, 5).text).toContain(`WHERE "ID" > $1 AND "ID" <= $2 ORDER BY "ID" LIMIT 5`);
    expect(postgresSql.rowsByKey(SINGLE, [['1'], ['2'], ['3']]).text).toContain(`WHERE "ID" IN ($1, $2, $3)`);
  });

  it('hashes with hashtextextended from PostgreSQL 11, the same statements otherwise', () => {
    const h = `hashtextextended(ROW("ROUTE", "SEQ", "AT")::text, 0)`;
    expect(postgresFastSql.checksum(TABLE, RANGE).text).toBe(
      `SELECT count(*) AS "n", coalesce(sum(${h}), 0)::text AS "s" FROM "legacy"."SEGMENTS" WHERE ("ROUTE", "SEQ") > ($1, $2) AND ("ROUTE", "SEQ") <= ($3, $4)`,
    );
    expect(postgresFastSql.rows(TABLE, {}, 3).text).toBe(`SELECT "ROUTE" AS "c0", "SEQ" AS "c1", "AT" AS "c2", ${h} AS "h" FROM "legacy"."SEGMENTS" ORDER BY "ROUTE", "SEQ" LIMIT 3`);
  });

  it('quotes identifiers that hold quotes', () => {
    const odd: PollTable = { ...SINGLE, schema: 'we"ird', name: 'ta"ble', columns: [{ name: 'i"d', kind: 'integer', nativeType: 'int' }], keyColumns: ['i"d'] };
    expect(postgresSql.rows(odd, {}, 1).text).toBe(
      `SELECT "i""d" AS "c0", ('x' || substr(md5(ROW("i""d")::text), 1, 16))::bit(64)::bigint AS "h" FROM "we""ird"."ta""ble" ORDER BY "i""d" LIMIT 1`,
    );
  });
});

describe('mysql / mariadb', () => {
  it('sums 64 bits of MD5 over QUOTE()d columns, spells key comparisons out, no GROUP_CONCAT', () => {
    const h = "CAST(CONV(SUBSTRING(MD5(CONCAT_WS(',', QUOTE(`ROUTE`), QUOTE(`SEQ`), QUOTE(`AT`))), 1, 16), 16, 10) AS UNSIGNED)";
    const checksum = mysqlSql.checksum(TABLE, RANGE);
    expect(checksum.text).toBe(
      `SELECT COUNT(*) AS \`n\`, CAST(COALESCE(SUM(${h}), 0) AS CHAR) AS \`s\` FROM \`legacy\`.\`SEGMENTS\` ` +
        'WHERE `ROUTE` >= ? AND (`ROUTE` > ? OR (`ROUTE` = ? AND `SEQ` > ?)) AND `ROUTE` <= ? AND (`ROUTE` < ? OR (`ROUTE` = ? AND `SEQ` <= ?))',
    );
    expect(checksum.params.map((p) => p.value)).toEqual(['I-95', 'I-95', 'I-95', '3', 'US 1', 'US 1', 'US 1', '7']);
    expect(checksum.text).not.toMatch(/GROUP_CONCAT|CRC32/);
    expect(mysqlSql.rows(TABLE, {}, 10).text).toBe(`SELECT \`ROUTE\` AS \`c0\`, \`SEQ\` AS \`c1\`, \`AT\` AS \`c2\`, ${h} AS \`h\` FROM \`legacy\`.\`SEGMENTS\` ORDER BY \`ROUTE\`, \`SEQ\` LIMIT 10`);
    expect(mysqlSql.rowsByKey(TABLE, [['a', '1'], ['b', '2']]).text).toContain('WHERE (`ROUTE` = ? AND `SEQ` = ?) OR (`ROUTE` = ? AND `SEQ` = ?) ORDER BY');
    expect(mysqlSql.maxChanged(TABLE).text).toBe('SELECT CAST(MAX(`AT`) AS CHAR) AS `m` FROM `legacy`.`SEGMENTS`');
  });
});

describe('sqlite', () => {
  it('uses the registered row hash and exact sum, row values and LIMIT', () => {
    expect(sqliteSql.checksum(TABLE, RANGE).text).toBe(
      `SELECT count(*) AS "n", hms_hash_sum(hms_row_hash("ROUTE", "SEQ", "AT")) AS "s" FROM "legacy"."SEGMENTS" WHERE ("ROUTE", "SEQ") > (?, ?) AND ("ROUTE", "SEQ") <= (?, ?)`,
    );
    expect(sqliteSql.rows(TABLE, { upTo: ['b', '2'] }, 7).text).toBe(
      `SELECT "ROUTE" AS "c0", "SEQ" AS "c1", "AT" AS "c2", hms_row_hash("ROUTE", "SEQ", "AT") AS "h" FROM "legacy"."SEGMENTS" WHERE ("ROUTE", "SEQ") <= (?, ?) ORDER BY "ROUTE", "SEQ" LIMIT 7`,
    );
  });
});

describe('oracle (SQL only)', () => {
  const at = { name: 'AT', kind: 'timestamp', nativeType: 'TIMESTAMP(6)' } as const;
  const TABLE_ORA: PollTable = { ...TABLE, columns: [TABLE.columns[0]!, TABLE.columns[1]!, at], changed: at };

  it('hashes with STANDARD_HASH, formats dates explicitly, pages with FETCH FIRST, binds :n', () => {
    const TABLE = TABLE_ORA;
    const checksum = oracleSql.checksum(TABLE, RANGE);
    expect(checksum.text).toMatch(/^SELECT COUNT\(\*\) AS "n", TO_CHAR\(NVL\(SUM\(TO_NUMBER\(SUBSTR\(RAWTOHEX\(STANDARD_HASH\(/);
    expect(checksum.text).toContain(`'MD5')), 1, 16), 'XXXXXXXXXXXXXXXX')), 0)) AS "s" FROM "legacy"."SEGMENTS"`);
    expect(checksum.text).toContain(`NVL2("ROUTE", '''' || REPLACE(TO_CHAR("ROUTE"), '''', '''''') || '''', 'NULL') || ',' || NVL2("SEQ"`);
    expect(checksum.text).toContain(`TO_CHAR("AT", 'YYYY-MM-DD HH24:MI:SS.FF6')`);
    expect(checksum.text).toContain(`WHERE "ROUTE" >= :1 AND ("ROUTE" > :2 OR ("ROUTE" = :3 AND "SEQ" > :4)) AND "ROUTE" <= :5 AND ("ROUTE" < :6 OR ("ROUTE" = :7 AND "SEQ" <= :8))`);
    const rows = oracleSql.rows(TABLE, { after: ['I-95', '3'] }, 100).text;
    expect(rows).toMatch(/^SELECT "ROUTE" AS "c0", "SEQ" AS "c1", TO_CHAR\("AT", 'YYYY-MM-DD HH24:MI:SS.FF6'\) AS "c2", TO_NUMBER/);
    expect(rows).toMatch(/ORDER BY "ROUTE", "SEQ" FETCH FIRST 100 ROWS ONLY$/);
    expect(oracleSql.maxChanged(TABLE).text).toBe(`SELECT TO_CHAR(MAX("AT"), 'YYYY-MM-DD HH24:MI:SS.FF6') AS "m" FROM "legacy"."SEGMENTS"`);
    expect(oracleSql.rows(TABLE, {}, 1).text).not.toMatch(/ORA_HASH|LIMIT|ROWNUM/);
    // An Oracle DATE holds a time of day too, to the second.
    const dated: PollTable = { ...TABLE, columns: [TABLE.columns[0]!, TABLE.columns[1]!, { ...at, nativeType: 'DATE' }] };
    expect(oracleSql.rows(dated, {}, 1).text).toContain(`TO_CHAR("AT", 'YYYY-MM-DD HH24:MI:SS') AS "c2"`);
  });
});

describe('sql server (SQL only)', () => {
  it('hashes with HASHBYTES, sums as DECIMAL(38,0), pages with OFFSET … FETCH, binds @pN', () => {
    const checksum = mssqlSql.checksum(TABLE, RANGE);
    expect(checksum.text).toMatch(/^SELECT COUNT_BIG\(\*\) AS \[n\], CAST\(COALESCE\(SUM\(CAST\(CAST\(SUBSTRING\(HASHBYTES\('MD5', CONCAT\(/);
    expect(checksum.text).toContain(`COALESCE(N'''' + REPLACE(CONVERT(NVARCHAR(MAX), [AT], 126), N'''', N'''''') + N'''', N'NULL')`);
    expect(checksum.text).toContain(`1, 8) AS BIGINT) AS DECIMAL(38, 0))), 0) AS VARCHAR(40)) AS [s] FROM [legacy].[SEGMENTS]`);
    expect(checksum.text).toContain(`WHERE [ROUTE] >= @p1 AND ([ROUTE] > @p2 OR ([ROUTE] = @p3 AND [SEQ] > @p4)) AND [ROUTE] <= @p5`);
    expect(checksum.text).not.toMatch(/CHECKSUM_AGG/);
    expect(mssqlSql.rows(TABLE, {}, 100).text).toMatch(/ORDER BY \[ROUTE\], \[SEQ\] OFFSET 0 ROWS FETCH NEXT 100 ROWS ONLY$/);
    // CONCAT wants two arguments at least: a one-column row still hashes.
    const one: PollTable = { ...SINGLE, columns: [SINGLE.columns[0]!] };
    expect(mssqlSql.rows(one, {}, 1).text).toContain(`CONCAT(COALESCE(N'''' + REPLACE(CONVERT(NVARCHAR(MAX), [ID]), N'''', N'''''') + N'''', N'NULL'), N'')`);
  });
});

describe('spelled-out key comparison', () => {
  it('selects the same rows as row values, for every bound over a 3-column key', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE k (a INTEGER, b TEXT, c INTEGER, PRIMARY KEY (a, b, c))');
    const insert = db.prepare('INSERT INTO k VALUES (?, ?, ?)');
    const values = { a: [1, 2, 3], b: ['x', 'y'], c: [1, 2, 3] };
    for (const a of values.a) for (const b of values.b) for (const c of values.c) insert.run(a, b, c);
    const table: PollTable = {
      table: 'main.k',
      schema: 'main',
      name: 'k',
      columns: [
        { name: 'a', kind: 'integer', nativeType: 'INTEGER' },
        { name: 'b', kind: 'text', nativeType: 'TEXT' },
        { name: 'c', kind: 'integer', nativeType: 'INTEGER' },
      ],
      keyColumns: ['a', 'b', 'c'],
      keyIndexes: [0, 1, 2],
    };
    // The registered functions are not needed for the key predicates: select the key only.
    const spelled = buildSql({ ...sqliteFlavor, rowValues: false, rowHash: () => '0' });
    const tuples = buildSql({ ...sqliteFlavor, rowHash: () => '0' });
    const run = (sql: { text: string; params: Array<{ value: unknown }> }) =>
      db.prepare(sql.text).raw().all(...sql.params.map((p) => p.value)).map((r) => (r as unknown[]).slice(0, 3).join('/'));
    let compared = 0;
    for (const a of [0, ...values.a, 4]) {
      for (const b of ['w', ...values.b, 'z']) {
        for (const c of [0, ...values.c, 4]) {
          const bound = [String(a), b, String(c)];
          for (const range of [{ after: bound }, { upTo: bound }, { after: ['1', 'y', '2'], upTo: bound }]) {
            expect(run(spelled.rows(table, range, 1000))).toEqual(run(tuples.rows(table, range, 1000)));
            compared += 1;
          }
        }
      }
    }
    expect(compared).toBe(5 * 4 * 5 * 3);
    db.close();
  });
});
