import { describe, expect, it } from 'vitest';
import type { OracleTable } from '../../../../capture/oracle/catalog.ts';
import { logminerGrants, supplementalLoggingSql } from '../../../../capture/oracle/doctor.ts';
import { snapshotChunkSql } from '../../../../capture/oracle/snapshot.ts';
import { keyValue, storedKey } from '../../../../capture/shared-keyset-snapshot.ts';
import { oracleColumn } from '../../../../capture/oracle/values.ts';

const TABLE: OracleTable = {
  table: 'LEGACY.SEGMENTS',
  owner: 'LEGACY',
  name: 'SEGMENTS',
  columns: [oracleColumn('ROUTE', 'VARCHAR2', null, null), oracleColumn('AT', 'DATE', null, null), oracleColumn('N', 'NUMBER', null, null)],
  primaryKey: ['ROUTE', 'AT'],
};

describe('oracle snapshot SQL', () => {
  it('reads AS OF the snapshot SCN, keyset after the last key, FETCH FIRST', () => {
    expect(snapshotChunkSql(TABLE, ['ROUTE'], 500, false).sql).toBe(
      `SELECT "ROUTE", TO_CHAR("AT", 'YYYY-MM-DD HH24:MI:SS') AS "AT", "N" FROM "LEGACY"."SEGMENTS" AS OF SCN :1 ORDER BY "ROUTE" FETCH FIRST 500 ROWS ONLY`,
    );
    expect(snapshotChunkSql(TABLE, ['ROUTE'], 500, true).sql).toContain(`AS OF SCN :1 WHERE "ROUTE" > :2 ORDER BY`);
    const composite = snapshotChunkSql(TABLE, ['ROUTE', 'AT'], 10, true);
    expect(composite.sql).toContain(
      `WHERE "ROUTE" >= :2 AND ("ROUTE" > :3 OR ("ROUTE" = :4 AND "AT" > TO_DATE(:5, 'YYYY-MM-DD HH24:MI:SS'))) ORDER BY "ROUTE", "AT" FETCH FIRST 10 ROWS ONLY`,
    );
    expect(composite.order).toEqual([0, 0, 0, 1]);
    expect(composite.sql).not.toMatch(/OFFSET|ROWNUM/);
  });

  it('stores bytes keys as hex and reads them back', () => {
    const stored = storedKey(new Uint8Array([1, 2, 255]));
    expect(stored).toEqual({ hex: '0102ff' });
    expect(keyValue(stored)).toEqual(new Uint8Array([1, 2, 255]));
    expect(keyValue('x')).toBe('x');
  });
});

describe('oracle doctor statements', () => {
  it('give the exact enabling SQL and grants', () => {
    expect(supplementalLoggingSql([{ owner: 'LEGACY', name: 'SEGMENTS' }], false)).toEqual([
      'ALTER DATABASE ADD SUPPLEMENTAL LOG DATA;  -- in CDB$ROOT (or the non-CDB database), as SYSDBA',
      'ALTER TABLE "LEGACY"."SEGMENTS" ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;',
    ]);
    expect(supplementalLoggingSql([], true)).toEqual([]);
    const grants = logminerGrants('READER', [{ owner: 'LEGACY', name: 'SEGMENTS' }]);
    expect(grants[0]).toBe('GRANT CREATE SESSION, LOGMINING, SELECT ANY TRANSACTION TO "READER";');
    expect(grants).toContain('GRANT EXECUTE ON SYS.DBMS_LOGMNR TO "READER";');
    expect(grants).toContain('GRANT SELECT ON SYS.V_$LOGMNR_CONTENTS TO "READER";');
    expect(grants.at(-1)).toBe('GRANT SELECT, FLASHBACK ON "LEGACY"."SEGMENTS" TO "READER";');
  });
});
