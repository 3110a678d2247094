/**
 * Diff reports: one per table per run with differences, as the review queue stores them and
 * `review show --json` prints them. Pure: building, capping and summarizing.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject, JsonValue } from '../src/mapping/types.ts';
import type { DiffKind, FieldDiff, RowDiff } from './types.ts';

export type ReportStatus = 'open' | 'resolved';

export interface DiffCounts {
  missingInTarget: number;
  missingInSource: number;
  different: number;
}

export interface ReportDiff {
  key: JsonObject;
  kind: DiffKind;
  fields?: FieldDiff[];
}

export interface Resolution {
  action: 'resolve' | 'resync';
  by: string;
  at: string;
  note?: string;
  /** resync: rows re-emitted as `r` envelopes and keys tombstoned with `d`, at this position. */
  rows?: number;
  tombstones?: number;
  position?: string;
}

export interface DiffReport {
  id: string;
  source: string;
  table: string;
  entity: string;
  status: ReportStatus;
  createdAt: string;
  /** The source position read before the run read the source (changes after it were not reported). */
  runStartPosition: string;
  counts: DiffCounts;
  /** At most the cap, in key order; `moreDiffs` says how many more the run found. */
  diffs: ReportDiff[];
  moreDiffs: number;
  /** The target the run compared with: "stream" or "postgres". */
  target: string;
  /** False when the target had not caught up to the start position by the deadline. */
  targetCaughtUp: boolean;
  /** For resync: the source key columns, and each listed diff's values of them (null: not in the source). */
  keyColumns: string[];
  sourceKeys: (string[] | null)[];
  resolution?: Resolution;
}

/** What `review list --json` prints per report (DESIGN.md "CLI"). */
export interface ReportListItem {
  id: string;
  source: string;
  table: string;
  status: ReportStatus;
  createdAt: string;
  counts: DiffCounts;
}

export const DEFAULT_MAX_DIFFS = 1000;
/** Longest value text kept in a report; longer ones are cut and say by how much. */
export const MAX_VALUE_CHARS = 2000;

/** "20261121-020000-3fa9c1": sorts by creation time, short enough to type. */
export function newReportId(createdAt: string, random: string = randomBytes(3).toString('hex')): string {
  const compact = createdAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${compact}-${random}`;
}

export function countDiffs(diffs: readonly { kind: DiffKind }[]): DiffCounts {
  const counts: DiffCounts = { missingInTarget: 0, missingInSource: 0, different: 0 };
  for (const d of diffs) counts[d.kind] += 1;
  return counts;
}

function shorten(value: JsonValue, maxChars: number): JsonValue {
  if (typeof value === 'string' && value.length > maxChars) {
    return `${value.slice(0, maxChars)}… [${value.length - maxChars} more characters not shown]`;
  }
  if (value !== null && typeof value === 'object') {
    const text = JSON.stringify(value);
    if (text.length > maxChars) return `${text.slice(0, maxChars)}… [${text.length - maxChars} more characters not shown]`;
  }
  return value;
}

function reportDiff(diff: RowDiff, maxChars: number): ReportDiff {
  const out: ReportDiff = { key: diff.key, kind: diff.kind };
  if (diff.fields) {
    out.fields = diff.fields.map((f) => ({ field: f.field, source: shorten(f.source, maxChars), target: shorten(f.target, maxChars) }));
  }
  return out;
}

export interface BuildReportInput {
  id: string;
  source: string;
  table: string;
  entity: string;
  createdAt: string;
  runStartPosition: string;
  target: string;
  targetCaughtUp: boolean;
  keyColumns: string[];
  /** In key order. */
  diffs: readonly RowDiff[];
  maxDiffs?: number;
  /** Largest JSON size of the stored report (the NATS server's max_payload less headers). */
  maxBytes?: number;
}

/** The report of one table's differences; undefined for none (a clean run opens no report). */
export function buildReport(input: BuildReportInput): DiffReport | undefined {
  if (input.diffs.length === 0) return undefined;
  let listed = Math.min(input.diffs.length, input.maxDiffs ?? DEFAULT_MAX_DIFFS);
  let maxChars = MAX_VALUE_CHARS;
  for (;;) {
    const shown = input.diffs.slice(0, listed);
    const report: DiffReport = {
      id: input.id,
      source: input.source,
      table: input.table,
      entity: input.entity,
      status: 'open',
      createdAt: input.createdAt,
      runStartPosition: input.runStartPosition,
      counts: countDiffs(input.diffs),
      diffs: shown.map((d) => reportDiff(d, maxChars)),
      moreDiffs: input.diffs.length - listed,
      target: input.target,
      targetCaughtUp: input.targetCaughtUp,
      keyColumns: input.keyColumns,
      sourceKeys: shown.map((d) => d.sourceKey ?? null),
    };
    if (input.maxBytes === undefined || Buffer.byteLength(JSON.stringify(report)) <= input.maxBytes || listed === 0) return report;
    // Too large for one message: shorter values first, then fewer diffs.
    if (maxChars > 200) maxChars = 200;
    else listed = Math.floor(listed / 2);
  }
}

export function listItem(report: DiffReport): ReportListItem {
  return {
    id: report.id,
    source: report.source,
    table: report.table,
    status: report.status,
    createdAt: report.createdAt,
    counts: report.counts,
  };
}

/** Newest first. */
export function sortReports<T extends { createdAt: string; id: string }>(reports: T[]): T[] {
  return reports.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
}

export function resolved(report: DiffReport, resolution: Resolution): DiffReport {
  return { ...report, status: 'resolved', resolution };
}

/** One line for a terminal: "missing in target 2, missing in source 1, different 3". */
export function countsText(counts: DiffCounts): string {
  return `missing in target ${counts.missingInTarget}, missing in source ${counts.missingInSource}, different ${counts.different}`;
}
