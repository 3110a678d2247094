// A table keyed (text, integer) whose text holds subject-unsafe and non-ASCII characters:
// every envelope's subject decodes back to its key values, `key` holds the mapped key fields
// in `key:` order, the snapshot pages through the composite key without losing or repeating a
// row, and an UPDATE of a key column is a `d` of the old key then a `c` of the new one.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { decodeKeyToken } from '../../../src/envelope/key-token.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { lastToken, pgSession, under, waitForStream } from '../../support/pg-helpers.ts';

// Fields in another order than the key, so `key` order cannot come from the fields by accident.
const MAPPING = `
table: public.segments
entity: segment
key: [ROUTE, SEQ]
fields:
  note:  { from: NOTE, type: string }
  seq:   { from: SEQ, type: integer }
  route: { from: ROUTE, type: string }
`;

const SNAPSHOT_ROWS: [string, number, string][] = [
  ['', 0, 'empty route'],
  ['I-95 N.B.', 1, 'dots and a space'],
  ['I-95 N.B.', 2, 'same route, next seq'],
  ['Z\u00fcrich \u6771\u4eac', 7, 'non-ASCII'],
  ['a_b~c', 10, 'underscore and tilde'],
  ['~', 1, 'a lone tilde'],
  ['~', 2, 'a lone tilde again'],
];

describe('composite-keys', () => {
  it('encodes (text, integer) keys injectively in subjects and turns a key update into d + c', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using session = await pgSession(db.url);
    await session.query(`CREATE TABLE segments ("ROUTE" text, "SEQ" integer, "NOTE" text, PRIMARY KEY ("ROUTE", "SEQ"))`);
    for (const row of SNAPSHOT_ROWS) await session.query(`INSERT INTO segments VALUES ($1, $2, $3)`, row);

    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('ckeys'),
      // Chunks of 2 rows: the snapshot resumes after a composite key, mid-route too.
      source: { name: 'legacy', url: db.url, extra: 'poll: { chunkSize: 2 }' },
      mappings: { 'SEGMENTS.yaml': MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

    await session.query(`INSERT INTO segments VALUES ('north.east side', 3, 'new')`);
    await session.query(`INSERT INTO segments VALUES ('\u03a9mega \u2713', 42, 'greek')`);
    await session.query(`UPDATE segments SET "NOTE" = 'renoted' WHERE "ROUTE" = 'I-95 N.B.' AND "SEQ" = 1`);
    await session.query(`DELETE FROM segments WHERE "ROUTE" = 'a_b~c' AND "SEQ" = 10`);
    // Key updates: the integer part, then the text part.
    await session.query(`UPDATE segments SET "SEQ" = 5 WHERE "ROUTE" = 'north.east side' AND "SEQ" = 3`);
    await session.query(`UPDATE segments SET "ROUTE" = 'south~west', "NOTE" = 'moved' WHERE "ROUTE" = '~' AND "SEQ" = 2`);

    const entity = `${setup.prefix}.legacy.segment.`;
    const expectedCount = SNAPSHOT_ROWS.length + 8;
    const messages = await waitForStream(
      inject('natsUrl'),
      setup.stream,
      (all) => under(all, entity).length >= expectedCount,
      `${expectedCount} envelopes`,
    );
    const envelopes = under(messages, entity);
    expect(envelopes).toHaveLength(expectedCount);
    expect(under(messages, `${setup.prefix}.legacy.dlq.`)).toEqual([]);
    expect(streamProblems(messages, entity)).toEqual([]);

    // Every snapshot row exactly once, paging notwithstanding.
    const snapshot = envelopes.filter((m) => m.body.op === 'r');
    expect(snapshot.map((m) => [m.body.key.route, m.body.key.seq, m.body.after.note]).sort()).toEqual([...SNAPSHOT_ROWS].sort());

    const streamed = envelopes.filter((m) => m.body.op !== 'r').map((m) => `${m.body.op} ${JSON.stringify(m.body.key)}`);
    expect(streamed).toEqual([
      `c {"route":"north.east side","seq":3}`,
      `c {"route":"\u03a9mega \u2713","seq":42}`,
      `u {"route":"I-95 N.B.","seq":1}`,
      `d {"route":"a_b~c","seq":10}`,
      `d {"route":"north.east side","seq":3}`,
      `c {"route":"north.east side","seq":5}`,
      `d {"route":"~","seq":2}`,
      `c {"route":"south~west","seq":2}`,
    ]);

    for (const m of envelopes) {
      const { key, after, op } = m.body;
      // key in `key:` order; the subject's token decodes back to exactly those values.
      expect(Object.keys(key)).toEqual(['route', 'seq']);
      expect(m.subject).toBe(entity + lastToken(m.subject));
      expect(decodeKeyToken(lastToken(m.subject))).toEqual([key.route, String(key.seq)]);
      if (op === 'd') {
        expect(after).toBeNull();
      } else {
        expect(Object.keys(after)).toEqual(['note', 'seq', 'route']);
        expect({ route: after.route, seq: after.seq }).toEqual(key);
      }
    }
    // The encoding itself: '.' and ' ' escaped, values joined with '~', an empty value is '_'.
    expect(envelopes.find((m) => m.body.key.route === 'north.east side' && m.body.key.seq === 3)!.subject).toBe(
      `${entity}north_2Eeast_20side~3`,
    );
    expect(envelopes.find((m) => m.body.key.route === '')!.subject).toBe(`${entity}_~0`);
    expect(envelopes.find((m) => m.body.key.route === 'a_b~c')!.subject).toBe(`${entity}a_5Fb_7Ec~10`);
    // Distinct keys, distinct subjects.
    const keys = new Set(envelopes.map((m) => JSON.stringify(m.body.key)));
    expect(new Set(envelopes.map((m) => m.subject)).size).toBe(keys.size);

    // The key-changing updates: d (old key, one position) then c (new key, the next position).
    const moved = envelopes.filter((m) => m.body.source.capture === 'log').slice(4);
    for (const [d, c] of [[moved[0]!, moved[1]!], [moved[2]!, moved[3]!]] as const) {
      expect(d.body.source.position.slice(0, 16)).toBe(c.body.source.position.slice(0, 16));
      expect(d.body.source.position < c.body.source.position).toBe(true);
    }
    expect(moved[3]!.body.after).toEqual({ note: 'moved', seq: 2, route: 'south~west' });

    // What the stream describes is what the table holds.
    const table = await session.query<{ ROUTE: string; SEQ: number; NOTE: string }>(`SELECT * FROM segments`);
    const live = liveRows(messages, entity);
    expect([...live.values()].map((a) => [a.route, a.seq, a.note]).sort()).toEqual(table.map((r) => [r.ROUTE, r.SEQ, r.NOTE]).sort());
    expect(await bridge.stop()).toBe(0);
  });
});
