// Checks shared by the capture-method switch tests (poll -> log, log -> poll): what a
// last-write-wins consumer ends up with, and the order of positions per key.
import type { StoredMessage } from './stream.ts';

/** Latest envelope per subject by position (what a last-write-wins consumer keeps). */
export function latestByPosition(messages: StoredMessage[], prefix: string): Map<string, StoredMessage> {
  const latest = new Map<string, StoredMessage>();
  for (const m of messages) {
    if (!m.subject.startsWith(prefix)) continue;
    const held = latest.get(m.subject);
    if (!held || m.body.source.position > held.body.source.position) latest.set(m.subject, m);
  }
  return latest;
}

/**
 * Differences between the table (subject -> mapped row) and what a consumer applying the
 * envelope with the greatest position per key holds: rows that differ, and keys gone from the
 * table whose latest envelope is not a `d`.
 */
export function lastWriteWinsDifferences(messages: StoredMessage[], prefix: string, table: Map<string, unknown>): string[] {
  const latest = latestByPosition(messages, prefix);
  const problems: string[] = [];
  for (const [subject, row] of table) {
    const m = latest.get(subject);
    if (!m || m.body.op === 'd' || JSON.stringify(m.body.after) !== JSON.stringify(row)) {
      problems.push(`${subject}: table ${JSON.stringify(row)}, stream ${m ? `${m.body.op} ${m.body.source.position} ${JSON.stringify(m.body.after)}` : 'nothing'}`);
    }
  }
  for (const [subject, m] of latest) {
    if (!table.has(subject) && m.body.op !== 'd') problems.push(`${subject}: deleted in the table, stream ends on ${m.body.op} ${m.body.source.position}`);
  }
  return problems;
}

/** Per key, positions must rise strictly in stream order (no exception for `r`). */
export function strictPositionProblems(messages: StoredMessage[], prefix: string): string[] {
  const last = new Map<string, StoredMessage>();
  const problems: string[] = [];
  for (const m of messages) {
    if (!m.subject.startsWith(prefix)) continue;
    const previous = last.get(m.subject);
    if (previous && !(m.body.source.position > previous.body.source.position)) {
      problems.push(
        `${m.subject}: seq ${m.seq} ${m.body.op} ${m.body.source.position} not after seq ${previous.seq} ${previous.body.op} ${previous.body.source.position}`,
      );
    }
    last.set(m.subject, m);
  }
  return problems;
}
