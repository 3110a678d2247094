// How the Oracle and SQL Server captures resume (capture/shared-keyset-snapshot.ts and
// capture/shared-offsets-record.ts): a table is paged by key and each chunk carries the key a
// restarted snapshot continues after; the offsets record starts a snapshot once, before its
// first row, and a resume point that tells nothing new is not written.
import { describe, expect, it } from 'vitest';
import { keysetSnapshot, keyValue, type StoredKeyValue } from '../../../../capture/shared-keyset-snapshot.ts';
import { OffsetsRecord } from '../../../../capture/shared-offsets-record.ts';
import { oracleColumn } from '../../../../capture/oracle/values.ts';
import type { SourceRow } from '../../../../src/mapping/types.ts';
import type { OffsetStore } from '../../../../src/ports.ts';

const TABLE = {
  table: 'LEGACY.SEGMENTS',
  columns: [oracleColumn('ROUTE', 'RAW', null, null), oracleColumn('SEQ', 'NUMBER', 10, 0), oracleColumn('NOTE', 'VARCHAR2', null, null)],
};
const ROWS: SourceRow[] = [1, 2, 3, 4, 5].map((n) => ({ ROUTE: new Uint8Array([0xa0, n]), SEQ: String(n), NOTE: `row ${n}` }));

/** A table read the way the chunk statements read it: rows after the key, in key order. */
function readAfter(rows: SourceRow[], chunkSize: number, asked: Array<StoredKeyValue[] | undefined>) {
  return async (afterKey: StoredKeyValue[] | undefined): Promise<SourceRow[]> => {
    asked.push(afterKey);
    const after = afterKey ? Number(keyValue(afterKey[1]!)) : 0;
    return rows.filter((r) => Number(r.SEQ) > after).slice(0, chunkSize);
  };
}

function snapshot(options: { chunkSize: number; afterKey?: StoredKeyValue[]; signal?: AbortSignal; asked: Array<StoredKeyValue[] | undefined> }) {
  return keysetSnapshot(
    TABLE,
    ['ROUTE', 'SEQ'],
    {
      position: 'P0',
      commitTs: '2024-03-10T06:59:59.000Z',
      chunkSize: options.chunkSize,
      afterKey: options.afterKey,
      signal: options.signal ?? new AbortController().signal,
    },
    readAfter(ROWS, options.chunkSize, options.asked),
  );
}

class MemoryOffsets implements OffsetStore {
  readonly values = new Map<string, unknown>();
  puts = 0;
  async get<T>(key: string): Promise<T | undefined> {
    return this.values.get(key) as T | undefined;
  }
  async put(key: string, value: unknown): Promise<void> {
    this.puts++;
    this.values.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

describe('keyset snapshot of one table', () => {
  it('pages by key until a short chunk, each row an r change, each chunk with its last key as stored', async () => {
    const asked: Array<StoredKeyValue[] | undefined> = [];
    const chunks = [];
    for await (const chunk of snapshot({ chunkSize: 2, asked })) chunks.push(chunk);
    expect(chunks.map((c) => [c.changes.length, c.done])).toEqual([
      [2, false],
      [2, false],
      [1, true],
    ]);
    expect(chunks[0]!.lastKey).toEqual([{ hex: 'a002' }, '2']);
    expect(asked).toEqual([undefined, [{ hex: 'a002' }, '2'], [{ hex: 'a004' }, '4']]);
    expect(chunks[0]!.changes[0]).toEqual({
      op: 'r',
      table: 'LEGACY.SEGMENTS',
      position: 'P0',
      commitTs: '2024-03-10T06:59:59.000Z',
      capture: 'snapshot',
      row: ROWS[0],
      before: null,
      keyRow: { ROUTE: new Uint8Array([0xa0, 1]), SEQ: '1' },
      // The columns as the mapping engine sees them: name, kind and native type only.
      columns: new Map([
        ['ROUTE', { name: 'ROUTE', kind: 'bytes', nativeType: 'RAW' }],
        ['SEQ', { name: 'SEQ', kind: 'integer', nativeType: 'NUMBER(10,0)' }],
        ['NOTE', { name: 'NOTE', kind: 'text', nativeType: 'VARCHAR2' }],
      ]),
    });
  });

  it('continues after a recorded key; an empty last chunk keeps that key; an aborted one reads nothing', async () => {
    const asked: Array<StoredKeyValue[] | undefined> = [];
    const chunks = [];
    for await (const chunk of snapshot({ chunkSize: 5, afterKey: [{ hex: 'a005' }, '5'], asked })) chunks.push(chunk);
    expect(chunks).toEqual([{ changes: [], lastKey: [{ hex: 'a005' }, '5'], done: true }]);

    const stop = new AbortController();
    stop.abort();
    const none = [];
    for await (const chunk of snapshot({ chunkSize: 2, signal: stop.signal, asked: [] })) none.push(chunk);
    expect(none).toEqual([]);
  });
});

describe('offsets record of a log capture', () => {
  const advances = (resume: string, confirmed: string) => resume > confirmed;

  it('starts a snapshot once, recorded before its first row; never: done at once', async () => {
    const offsets = new MemoryOffsets();
    const record = new OffsetsRecord<{ scn: string }, string>(offsets, 'oracle.legacy', advances);
    const first = await record.open('initial', async () => ({ scn: '100' }));
    expect(first).toMatchObject({ started: true, progress: { status: 'running', point: { scn: '100' }, tables: {} } });
    expect(offsets.values.get('oracle.legacy')).toMatchObject({ snapshot: { status: 'running', point: { scn: '100' } } });

    const again = new OffsetsRecord<{ scn: string }, string>(offsets, 'oracle.legacy', advances);
    const resumed = await again.open('initial', () => Promise.reject(new Error('the point is read only for a new snapshot')));
    expect(resumed).toMatchObject({ started: false, progress: { status: 'running', point: { scn: '100' } } });
    expect(offsets.puts).toBe(1);

    const never = new OffsetsRecord<{ scn: string }, string>(new MemoryOffsets(), 'oracle.other', advances);
    expect((await never.open('never', async () => ({ scn: '7' }))).progress.status).toBe('done');
  });

  it('writes snapshot progress and resume points that advance; nothing before open()', async () => {
    const offsets = new MemoryOffsets();
    const record = new OffsetsRecord<{ scn: string }, string>(offsets, 'oracle.legacy', advances);
    await record.commitResume('150');
    expect(offsets.puts).toBe(0);

    const { progress } = await record.open('initial', async () => ({ scn: '100' }));
    await record.commitSnapshot({ ...progress, status: 'done' });
    await record.commitResume('150');
    await record.commitResume('120');
    await record.commitResume('150');
    expect(record.confirmed).toBe('150');
    expect(offsets.puts).toBe(3);
    expect(offsets.values.get('oracle.legacy')).toMatchObject({ snapshot: { status: 'done' }, confirmed: '150' });
  });
});
