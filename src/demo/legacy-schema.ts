// The demo's legacy database: three tables the way a system from the 1990s keeps them (CHAR
// keys padded with blanks, dates as yyyyMMdd integers, one-letter codes, a zone-less timestamp,
// 'Y'/'N' flags), a read-only account for the bridge, and the publication a DBA would create.
import type pg from 'pg';
import { quoteIdent } from '../servers/index.ts';
import type { LegacyRow } from './legacy-rows.ts';

export interface LegacyTable {
  /** The catalog's own name (upper case, so every identifier is quoted). */
  name: string;
  keyColumns: string[];
  /** Every column, in insert order. */
  columns: string[];
}

export const INSPECTIONS: LegacyTable = {
  name: 'BRG_INSPECTIONS',
  keyColumns: ['BRG_ID'],
  columns: ['BRG_ID', 'INSP_DT', 'NEXT_INSP_DT', 'CODE_STS', 'INSP_AMT', 'INSPECTOR', 'REMARKS'],
};

export const CREWS: LegacyTable = {
  name: 'CREWS',
  keyColumns: ['DIST_CD', 'CREW_NO'],
  columns: ['DIST_CD', 'CREW_NO', 'CREW_NM', 'CODE_TYPE', 'SIZE_CNT', 'LEAD_EMP_NO', 'STRT_DT'],
};

export const HEARINGS: LegacyTable = {
  name: 'COURT_HEARINGS',
  keyColumns: ['CASE_NO'],
  columns: ['CASE_NO', 'HEARING_TS', 'COURTROOM', 'JUDGE_NM', 'INTERP_REQ', 'CODE_DISP'],
};

export const LEGACY_TABLES = [INSPECTIONS, CREWS, HEARINGS] as const;

const DDL = [
  `CREATE TABLE public."BRG_INSPECTIONS" (
     "BRG_ID"       CHAR(10)      NOT NULL PRIMARY KEY,
     "INSP_DT"      INTEGER       NOT NULL,
     "NEXT_INSP_DT" INTEGER       NOT NULL DEFAULT 0,
     "CODE_STS"     CHAR(1)       NOT NULL,
     "INSP_AMT"     NUMERIC(12,2),
     "INSPECTOR"    CHAR(8)       NOT NULL DEFAULT '',
     "REMARKS"      TEXT
   )`,
  // The old image of every update and delete in the log, so their envelopes carry `before`.
  `ALTER TABLE public."BRG_INSPECTIONS" REPLICA IDENTITY FULL`,
  `CREATE TABLE public."CREWS" (
     "DIST_CD"     CHAR(3)     NOT NULL,
     "CREW_NO"     SMALLINT    NOT NULL,
     "CREW_NM"     VARCHAR(40) NOT NULL,
     "CODE_TYPE"   CHAR(1)     NOT NULL,
     "SIZE_CNT"    SMALLINT    NOT NULL,
     "LEAD_EMP_NO" CHAR(6)     NOT NULL DEFAULT '',
     "STRT_DT"     INTEGER     NOT NULL DEFAULT 0,
     PRIMARY KEY ("DIST_CD", "CREW_NO")
   )`,
  `CREATE TABLE public."COURT_HEARINGS" (
     "CASE_NO"    CHAR(14)    NOT NULL PRIMARY KEY,
     "HEARING_TS" TIMESTAMP   NOT NULL,
     "COURTROOM"  CHAR(4)     NOT NULL,
     "JUDGE_NM"   VARCHAR(40) NOT NULL,
     "INTERP_REQ" CHAR(1)     NOT NULL DEFAULT 'N',
     "CODE_DISP"  CHAR(1)     NOT NULL DEFAULT 'S'
   )`,
];

export function qualified(table: LegacyTable): string {
  return `public.${quoteIdent(table.name)}`;
}

/** `INSERT INTO public."T" ("A", "B") VALUES ($1, $2)` and its parameters. */
export function insertStatement(table: LegacyTable, row: LegacyRow): { text: string; values: unknown[] } {
  const columns = table.columns.map(quoteIdent).join(', ');
  const params = table.columns.map((_, i) => `$${i + 1}`).join(', ');
  return { text: `INSERT INTO ${qualified(table)} (${columns}) VALUES (${params})`, values: table.columns.map((c) => row[c]) };
}

export interface LegacyAccount {
  user: string;
  password: string;
}

/**
 * Creates the tables and loads the seed rows (as the superuser, like the legacy application),
 * then the account the bridge reads with: LOGIN REPLICATION and SELECT, nothing else. The
 * publication is created here as a DBA would, since a read-only account may not create one.
 */
export async function createLegacySchema(
  client: pg.Client,
  seed: ReadonlyMap<LegacyTable, LegacyRow[]>,
  account: LegacyAccount,
  publication: string,
): Promise<void> {
  await client.query('BEGIN');
  for (const statement of DDL) await client.query(statement);
  for (const [table, rows] of seed) {
    for (const row of rows) {
      const { text, values } = insertStatement(table, row);
      await client.query(text, values);
    }
  }
  await client.query(`CREATE ROLE ${quoteIdent(account.user)} LOGIN REPLICATION PASSWORD '${account.password.replaceAll("'", "''")}'`);
  await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(account.user)}`);
  await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${LEGACY_TABLES.map(qualified).join(', ')}`);
  await client.query('COMMIT');
}
