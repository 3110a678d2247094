// PostgreSQL does not send an unchanged TOASTed value in an update. The envelope must still
// carry the full value, never a placeholder, empty or null: read back by key (and listed in
// source.refetched), or taken from the old image under REPLICA IDENTITY FULL. When it can be
// neither (the row is gone by the time the change is read), the update goes to the
// dead-letter subject naming the column, and the delete that follows is published.
//
// The rows are written before the bridge starts (they arrive as snapshot rows), so the stream
// has seen no earlier change of them and nothing to carry a value from: the updates below
// must be completed by reading the table.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { streamProblems } from '../../support/stream.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';

const mapping = (table: string, entity: string) => `
table: public.${table}
entity: ${entity}
fields:
  id:      { from: id, type: integer }
  small:   { from: small, type: integer }
  payload: { from: payload, type: string }
unmapped: error
`;

const TEXT_LENGTH = 20_000;

/** 20 kB of random base64: incompressible, so stored out of line in full. */
function incompressibleText(): string {
  return randomBytes((TEXT_LENGTH / 4) * 3).toString('base64');
}

describe('toast-unchanged-columns', () => {
  it('carries the full unchanged TOAST value in every update, and dead-letters one it cannot read', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using session = await pgSession(db.url);
    for (const table of ['docs', 'docs_full']) {
      await session.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, small integer, payload text)`);
      // EXTERNAL: out of line and uncompressed, whatever pglz would make of the value.
      await session.query(`ALTER TABLE ${table} ALTER COLUMN payload SET STORAGE EXTERNAL`);
    }
    await session.query(`ALTER TABLE docs_full REPLICA IDENTITY FULL`);
    const text1 = incompressibleText();
    const text2 = incompressibleText();
    const textFull = incompressibleText();
    await session.query(`INSERT INTO docs VALUES (1, 1, $1), (2, 1, $2)`, [text1, text2]);
    await session.query(`INSERT INTO docs_full VALUES (1, 1, $1)`, [textFull]);
    // The premise: the values live in the TOAST tables, not in the heap rows.
    for (const [table, values] of [['docs', 2], ['docs_full', 1]] as const) {
      const [{ toast }] = (await session.query<{ toast: string }>(
        `SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE oid = '${table}'::regclass`,
      )) as [{ toast: string }];
      const [{ chunks }] = (await session.query<{ chunks: number }>(`SELECT count(*)::int AS chunks FROM ${toast}`)) as [{ chunks: number }];
      // 20,000 bytes in chunks of at most ~2 kB: at least 10 per value.
      expect(chunks, `TOAST chunks of ${table}`).toBeGreaterThanOrEqual(10 * values);
    }

    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('toast'),
      source: { name: 'legacy', url: db.url },
      mappings: { 'DOCS.yaml': mapping('docs', 'doc'), 'DOCS_FULL.yaml': mapping('docs_full', 'doc_full') },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

    await session.query(`UPDATE docs SET small = 2 WHERE id = 1`);
    await session.query(`UPDATE docs_full SET small = 2 WHERE id = 1`);
    // One transaction: the update's payload is not sent, and the row is gone once it commits.
    await session.transaction([`UPDATE docs SET small = 3 WHERE id = 2`, `DELETE FROM docs WHERE id = 2`]);

    const doc = `${setup.prefix}.legacy.doc.`;
    const docFull = `${setup.prefix}.legacy.doc_full.`;
    const dlq = `${setup.prefix}.legacy.dlq.doc`;
    const messages = await waitForStream(
      inject('natsUrl'),
      setup.stream,
      (all) => under(all, doc).length >= 4 && under(all, docFull).length >= 2 && under(all, dlq).length >= 1,
      'snapshot rows, updates, the dead letter and the delete',
    );

    // Default replica identity: the unchanged value is read back by key.
    const docs = under(messages, doc);
    expect(docs.map((m) => `${m.body.op} ${m.body.key.id}`)).toEqual(['r 1', 'r 2', 'u 1', 'd 2']);
    const update = docs[2]!.body;
    expect(update.after.small).toBe(2);
    expect(update.after.payload).toHaveLength(TEXT_LENGTH);
    expect(update.after.payload === text1, 'the update carries the stored text').toBe(true);
    expect(update.source.refetched).toEqual(['payload']);
    expect(update.before).toBeNull();
    expect(docs[0]!.body.source.refetched).toBeUndefined();

    // REPLICA IDENTITY FULL: the old image carries the value; nothing is read back.
    const full = under(messages, docFull);
    expect(full.map((m) => `${m.body.op} ${m.body.key.id}`)).toEqual(['r 1', 'u 1']);
    const fullUpdate = full[1]!.body;
    expect(fullUpdate.after.small).toBe(2);
    expect(fullUpdate.after.payload === textFull, 'the update carries the stored text').toBe(true);
    expect(fullUpdate.before).toEqual({ id: 1, small: 1, payload: textFull });
    expect(fullUpdate.source.refetched).toBeUndefined();

    // Row 2's update cannot be completed: a dead letter naming the column, then the delete.
    const letters = under(messages, dlq);
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter.subject).toBe(dlq);
    expect(letter.body.error).toMatch(/DOCS\.yaml: .*public\.docs.*payload/);
    expect(letter.body.source).toMatchObject({ table: 'public.docs', op: 'u', capture: 'log' });
    // What was sent is kept as text; the value that was not sent is not made up as NULL.
    expect(letter.body.raw).toEqual({ id: '2', small: '3' });
    expect(letter.msgId).toMatch(/^[0-9a-f]{32}$/);
    const deleted = docs[3]!;
    expect(deleted.body).toMatchObject({ op: 'd', key: { id: 2 }, after: null });
    // Same transaction, in order: the update (dead letter) precedes the delete.
    expect(letter.seq).toBeLessThan(deleted.seq);
    expect(letter.body.source.position < deleted.body.source.position).toBe(true);

    // No envelope anywhere carries a cut, empty or null payload.
    for (const m of [...docs, ...full]) {
      if (m.body.after) expect(m.body.after.payload?.length, `${m.subject} seq ${m.seq}`).toBe(TEXT_LENGTH);
    }
    expect(streamProblems(messages, doc)).toEqual([]);
    expect(streamProblems(messages, docFull)).toEqual([]);
    expect(await bridge.stop()).toBe(0);
  });
});
