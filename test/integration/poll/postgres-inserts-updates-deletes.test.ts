// Polling a PostgreSQL table with a SELECT-only role: the first pass sends every row as `r`,
// later passes find inserts (`c`), updates (`u`) and deletes (`d`) by hash diff; an unchanged
// table costs one checksum statement per 64 chunks and reads no rows; values keep their
// canonical forms (numeric exact, timestamptz in UTC, bytea as base64); the stream ends equal
// to the table.
import { describe, expect, inject, it } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';
import { startPollBridge } from '../../support/poll-harness.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';

const MAPPING = `
table: public.bridges
entity: bridge
fields:
  id:       { from: ID, type: integer }
  name:     { from: NAME, type: string }
  length:   { from: LEN_M, type: decimal }
  inspected: { from: INSPECTED_AT, type: timestamp }
  photo:    { from: PHOTO, type: bytes }
`;

describe('poll: postgres inserts, updates and deletes', () => {
  it('finds every change with a SELECT-only role, and an idle pass reads no rows', async () => {
    await using db = await freshDatabase('poll');
    await using session = await pgSession(db.url);
    await session.query(`CREATE TABLE bridges ("ID" integer PRIMARY KEY, "NAME" text, "LEN_M" numeric(12,3), "INSPECTED_AT" timestamptz, "PHOTO" bytea, "UNMAPPED" text)`);
    await session.query(
      `INSERT INTO bridges SELECT g, 'bridge ' || g, g * 1.5, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour', '\\x0102'::bytea, 'x' FROM generate_series(1, 250) g`,
    );
    const reader = await db.createRole('poller');
    await session.query(`GRANT SELECT ON bridges TO "${reader.name}"`);

    await using bridge = await startPollBridge({
      natsUrl: inject('natsUrl'),
      id: uniqueName('pollpg'),
      source: { name: 'legacy', kind: 'postgres', url: reader.url },
      mappings: { 'BRIDGES.yaml': MAPPING },
      poll: { intervalMs: 100, chunkSize: 50 },
    });
    const entity = `${bridge.prefix}.legacy.bridge.`;
    let messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 250, '250 r envelopes');
    expect(under(messages, entity).every((m) => m.body.op === 'r' && m.body.source.capture === 'poll')).toBe(true);
    const first = under(messages, entity).find((m) => m.body.key.id === 7)!.body;
    expect(first.after).toEqual({ id: 7, name: 'bridge 7', length: '10.500', inspected: '2024-01-01T07:00:00.000Z', photo: 'AQI=' });
    expect(first.source.position).toMatch(/^\d{13}-[0-9A-F]{8}-[0-9A-F]{8}$/);

    // Idle: one checksum statement for the 5 chunks (one group), no row read.
    const idleFrom = bridge.passes();
    await bridge.waitForPasses(idleFrom + 2);
    const idle = bridge.source.stats!.last!;
    expect(idle).toMatchObject({ kind: 'full', rowsRead: 0, rowQueries: 0, checksumQueries: 1, changes: 0 });

    // A change to a column no field maps is no change.
    await session.query(`UPDATE bridges SET "UNMAPPED" = 'y' WHERE "ID" = 5`);
    await session.query(`INSERT INTO bridges VALUES (1000, 'new one', 3.250, '2024-06-01 12:00:00+02', NULL, 'x'), (251, 'next', 1, NULL, '\\x', 'x')`);
    await session.query(`UPDATE bridges SET "NAME" = 'renamed', "LEN_M" = 99.001 WHERE "ID" = 42`);
    await session.query(`DELETE FROM bridges WHERE "ID" IN (1, 120)`);

    messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 255, '5 change envelopes');
    const changes = under(messages, entity).filter((m) => m.body.op !== 'r');
    expect(changes.map((m) => `${m.body.op} ${m.body.key.id}`).sort()).toEqual(['c 1000', 'c 251', 'd 1', 'd 120', 'u 42']);
    const byKey = new Map(changes.map((m) => [m.body.key.id, m.body]));
    expect(byKey.get(1000).after).toEqual({ id: 1000, name: 'new one', length: '3.250', inspected: '2024-06-01T10:00:00.000Z', photo: null });
    expect(byKey.get(251).after.photo).toBe('');
    expect(byKey.get(42).after).toMatchObject({ name: 'renamed', length: '99.001' });
    expect(byKey.get(1).after).toBeNull();
    expect(byKey.get(1).key).toEqual({ id: 1 });
    // Later passes sort after the first read; one pass's changes share its start and number.
    const positions = changes.map((m) => m.body.source.position as string);
    expect(positions.every((p) => p > first.source.position)).toBe(true);
    expect(new Set(positions).size).toBe(positions.length);

    // Quiet again, and nothing more was sent.
    const after = bridge.passes();
    await bridge.waitForPasses(after + 2);
    expect(bridge.source.stats!.last).toMatchObject({ rowsRead: 0, changes: 0 });
    messages = await waitForStream(inject('natsUrl'), bridge.stream, () => true, 'the stream');
    expect(under(messages, entity)).toHaveLength(255);
    expect(streamProblems(messages, entity)).toEqual([]);

    const table = await session.query<{ ID: number; NAME: string }>(`SELECT "ID", "NAME" FROM bridges`);
    const live = liveRows(messages, entity);
    expect([...live.values()].map((a) => `${a.id} ${a.name}`).sort()).toEqual(table.map((r) => `${r.ID} ${r.NAME}`).sort());
    await bridge.stop();
  });
});
