import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { snapshotWithProgress } from '../../../capture/snapshot-progress.ts';
import type { ProgressView } from '../../../src/metrics/index.ts';

describe('snapshot progress reaches the attempt observer', () => {
  it('reports rows done of the estimated total per table, then undefined once the snapshot is done', async () => {
    const views: Array<ProgressView | undefined> = [];
    const log = pino({ level: 'silent' }).child({ source: 'fhwa' });
    const batches = [];
    for await (const batch of snapshotWithProgress({
      tables: ['public.b', 'public.a'],
      progress: { status: 'running', startedAt: '', tables: {}, point: 0 },
      readTable: async function* (table) {
        const row = { op: 'r', table } as never;
        yield { changes: [row, row], lastKey: [1], done: false };
        yield { changes: [row], lastKey: [2], done: true };
      },
      checkpoint: (p) => p,
      log,
      signal: new AbortController().signal,
      observer: { estimateRows: async (table) => (table === 'public.a' ? 3 : undefined), snapshotProgress: (view) => views.push(view) },
    })) {
      batches.push(batch);
    }
    expect(batches).toHaveLength(5);
    const seen = views.map((v) => (v ? `${v.table} ${v.done}/${v.total}` : 'done'));
    expect(seen).toEqual(['public.a 0/3', 'public.a 2/3', 'public.a 3/3', 'public.b 0/null', 'public.b 2/null', 'public.b 3/null', 'done']);
    expect(views[0]).toMatchObject({ task: 'snapshot', source: 'fhwa' });
  });
});
