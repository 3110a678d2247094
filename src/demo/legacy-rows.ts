// Plausible legacy rows for the demo tables, from a seeded generator so every run of the demo
// starts from the same 40 rows a table. Values are what the legacy application would write:
// yyyyMMdd integers, unpadded text for CHAR columns (PostgreSQL pads them), 'Y'/'N' flags.
import { CREWS, HEARINGS, INSPECTIONS, type LegacyTable } from './legacy-schema.ts';

export type LegacyValue = string | number | null;
export type LegacyRow = Record<string, LegacyValue>;

export const SEED_ROWS_PER_TABLE = 40;

const REMARKS = [
  'No significant findings',
  'Deck spalling near expansion joint 3',
  'Scour at pier 2, monitor after high water',
  'Bearing corrosion, schedule repaint',
  'Guardrail damage on north approach',
  'Load posting signs missing',
  'Minor cracking in abutment wall',
  'Drainage scuppers clogged',
];
const INSPECTORS = ['JMK', 'RLT', 'AOS', 'DPW', 'KEH', ''];
const DISTRICTS = ['D1', 'D2', 'D3', 'D4', 'D5'];
const CREW_NAMES = ['North', 'South', 'River', 'Valley', 'Ridge', 'Harbor', 'Prairie', 'Summit'];
const CREW_TYPES = ['B', 'R', 'S', 'M'];
const JUDGES = ['Hon. A. Whitfield', 'Hon. M. Ortega', 'Hon. L. Brandt', 'Hon. S. Okafor'];
const COURTROOMS = ['1A', '2B', '3C', '4D'];

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The key of a row as one string, for the generator's own bookkeeping. */
export function rowKey(table: LegacyTable, row: LegacyRow): string {
  return table.keyColumns.map((c) => String(row[c])).join('|');
}

function yyyymmdd(date: Date): number {
  return date.getUTCFullYear() * 10_000 + (date.getUTCMonth() + 1) * 100 + date.getUTCDate();
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

export class LegacyRowGenerator {
  #nextInspection = 1001;
  #nextCase = 1;
  readonly #crewsPerDistrict = new Map<string, number>();

  constructor(private readonly random: () => number) {}

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  #int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  #dayIn(fromYear: number, toYear: number): Date {
    const from = Date.UTC(fromYear, 0, 1);
    const to = Date.UTC(toYear, 11, 31);
    return new Date(from + Math.floor(this.random() * ((to - from) / 86_400_000)) * 86_400_000);
  }

  #amount(): string {
    return `${this.#int(200, 25_000)}.${pad2(this.#int(0, 3) * 25)}`;
  }

  /** The rows each table starts with. */
  seed(): Map<LegacyTable, LegacyRow[]> {
    const rows = new Map<LegacyTable, LegacyRow[]>();
    for (const table of [INSPECTIONS, CREWS, HEARINGS]) {
      rows.set(table, Array.from({ length: SEED_ROWS_PER_TABLE }, () => this.newRow(table)));
    }
    return rows;
  }

  newRow(table: LegacyTable): LegacyRow {
    switch (table) {
      case INSPECTIONS:
        return this.#inspection();
      case CREWS:
        return this.#crew();
      default:
        return this.#hearing();
    }
  }

  /** A new inspection whose next-due date cannot exist: its change goes to the dead-letter subject. */
  impossibleInspection(): LegacyRow {
    return { ...this.#inspection(), NEXT_INSP_DT: 20250231, REMARKS: 'Next inspection keyed in as Feb 31' };
  }

  #inspection(): LegacyRow {
    const inspected = this.#dayIn(2023, 2025);
    const scheduled = this.random() < 0.85;
    const next = new Date(inspected.getTime() + this.#pick([1, 2]) * 365 * 86_400_000);
    return {
      BRG_ID: `B-${this.#nextInspection++}`,
      INSP_DT: yyyymmdd(inspected),
      NEXT_INSP_DT: scheduled ? yyyymmdd(next) : 0,
      // 'Q' is a code the mapping does not list: it becomes its default, "unknown".
      CODE_STS: this.random() < 0.05 ? 'Q' : this.#pick(['A', 'A', 'A', 'A', 'R', 'I', 'X']),
      INSP_AMT: this.#amount(),
      INSPECTOR: this.#pick(INSPECTORS),
      REMARKS: this.#pick(REMARKS),
    };
  }

  #crew(): LegacyRow {
    // Fill districts round-robin so the seed is 8 crews in each of 5 districts.
    const district = DISTRICTS.reduce((least, d) =>
      (this.#crewsPerDistrict.get(d) ?? 0) < (this.#crewsPerDistrict.get(least) ?? 0) ? d : least,
    );
    const crewNo = (this.#crewsPerDistrict.get(district) ?? 0) + 1;
    this.#crewsPerDistrict.set(district, crewNo);
    const type = this.#pick(CREW_TYPES);
    const kind = { B: 'Bridge', R: 'Road', S: 'Snow', M: 'Maintenance' }[type]!;
    return {
      DIST_CD: district,
      CREW_NO: crewNo,
      CREW_NM: `${this.#pick(CREW_NAMES)} ${kind} Crew ${crewNo}`,
      CODE_TYPE: type,
      SIZE_CNT: this.#int(3, 12),
      LEAD_EMP_NO: this.random() < 0.9 ? `E${this.#int(10_000, 99_999)}` : '',
      STRT_DT: this.random() < 0.9 ? yyyymmdd(this.#dayIn(2008, 2025)) : 0,
    };
  }

  #hearing(): LegacyRow {
    const day = this.#dayIn(2026, 2026);
    return {
      CASE_NO: `CR-2026-${String(this.#nextCase++).padStart(5, '0')}`,
      HEARING_TS: this.#hearingTime(day),
      COURTROOM: this.#pick(COURTROOMS),
      JUDGE_NM: this.#pick(JUDGES),
      INTERP_REQ: this.random() < 0.2 ? 'Y' : 'N',
      CODE_DISP: 'S',
    };
  }

  #hearingTime(day: Date): string {
    const date = day.toISOString().slice(0, 10);
    return `${date} ${pad2(this.#int(8, 15))}:${pad2(this.#pick([0, 15, 30, 45]))}:00`;
  }

  /** What an update of this row changes: a few columns, never the key. */
  changes(table: LegacyTable, row: LegacyRow): LegacyRow {
    switch (table) {
      case INSPECTIONS:
        return this.#pick([
          () => ({ CODE_STS: this.#pick(['A', 'R', 'I', 'X']), REMARKS: this.#pick(REMARKS) }),
          () => ({ INSP_AMT: this.#amount() }),
          () => ({ NEXT_INSP_DT: yyyymmdd(this.#dayIn(2026, 2028)), INSPECTOR: this.#pick(INSPECTORS) }),
        ])();
      case CREWS:
        return this.#pick([
          () => ({ SIZE_CNT: this.#int(3, 12) }),
          () => ({ LEAD_EMP_NO: `E${this.#int(10_000, 99_999)}` }),
          () => ({ CODE_TYPE: this.#pick(CREW_TYPES) }),
        ])();
      default: {
        // Continued to a later day, held, dismissed, or an interpreter requested.
        const moved = new Date(Date.parse(`${String(row.HEARING_TS).slice(0, 10)}T00:00:00Z`) + this.#int(7, 42) * 86_400_000);
        return this.#pick([
          () => ({ HEARING_TS: this.#hearingTime(moved), CODE_DISP: 'C' }),
          () => ({ CODE_DISP: this.#pick(['H', 'D']) }),
          () => ({ INTERP_REQ: row.INTERP_REQ === 'Y' ? 'N' : 'Y' }),
        ])();
      }
    }
  }
}
