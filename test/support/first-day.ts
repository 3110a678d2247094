// The DBA's first-day scenario, shared by the PostgreSQL, MariaDB and polling versions: the
// legacy table's mapping, the row it should become, and the legacy values the load writes.
import { randomBytes } from 'node:crypto';

/** The mapping of `<schema>.LEGACY_INSPECTIONS` (`public` on PostgreSQL, the database on MariaDB). */
export const firstDayMapping = (schema: string): string => `
table: ${schema}.LEGACY_INSPECTIONS
entity: inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd, nullIf: ["0"] }
  status:   { from: CODE_STS, codes: { A: active, I: inactive, X: closed }, default: unknown }
  amount:   { from: AMT, type: decimal }
  notes:    { from: NOTES, type: string }
  version:  { from: VERSION, type: integer }
unmapped: error
`;

const CODES: Record<string, string> = { A: 'active', I: 'inactive', X: 'closed' };

export interface FirstDayRow {
  BRG_ID: string;
  NEXT_INSP_DT: number | null;
  CODE_STS: string | null;
  AMT: string | null;
  NOTES: string | null;
  VERSION: number;
}

/** What the mapping above must make of a table row (written independently of the engine). */
export function expectedFirstDayRow(row: FirstDayRow) {
  const d = row.NEXT_INSP_DT;
  return {
    bridgeId: row.BRG_ID.trim(),
    nextDate: d === null || d === 0 ? null : `${String(d).slice(0, 4)}-${String(d).slice(4, 6)}-${String(d).slice(6, 8)}`,
    status: row.CODE_STS === null ? null : (CODES[row.CODE_STS] ?? 'unknown'),
    amount: row.AMT,
    notes: row.NOTES,
    version: row.VERSION,
  };
}

/** Every 7th note is 6 kB of incompressible text (TOASTed on PostgreSQL); the rest multibyte. */
export const legacyNote = (i: number, suffix = ''): string =>
  i % 7 === 0 ? randomBytes(6000).toString('base64') : `note ${i} — ünïcode ✓${suffix}`;
export const legacyDate = (i: number): number => 20240101 + (i % 12) * 100 + (i % 28);
/** 'Q' is a code the mapping does not list: it maps to the default. */
export const legacyCode = (i: number): string => 'AIXQ'[i % 4]!;
