import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { runPipeline } from '../../../src/pipeline/pipeline.ts';
import type { CaptureSource, ChangeBatch, OutgoingMessage, RawChange, Sink } from '../../../src/ports.ts';

/** A sink that acknowledges everything at once, and a source that yields one change. */
function memorySink(): Sink & { published: OutgoingMessage[] } {
  let seq = 0;
  return {
    published: [],
    publish(message) {
      this.published.push(message);
      seq += 1;
      return undefined;
    },
    get lastSequence() {
      return seq;
    },
    get ackedThrough() {
      return seq;
    },
    async waitAcked() {},
  };
}

function oneChange(table: string): CaptureSource<string> & { committed: string[] } {
  const change: RawChange = { op: 'c', table, position: '1', commitTs: null, capture: 'log', row: { id: '1' }, before: null, keyRow: { id: '1' }, columns: new Map() };
  return {
    name: 'src',
    committed: [],
    async *changes(): AsyncGenerator<ChangeBatch<string>> {
      yield { changes: [change], checkpoint: 'after-1' };
    },
    async commit(checkpoint) {
      this.committed.push(checkpoint);
    },
    async close() {},
  };
}

describe('a change the pipeline cannot route', () => {
  const ctx = { sourceName: 'src', sourceKind: 'postgres', subjectPrefix: 'p' };
  it('fails the attempt when no route is known yet, so nothing is committed past it', async () => {
    const source = oneChange('public.t');
    const sink = memorySink();
    await expect(runPipeline(source, sink, { routes: new Map(), ctx, log: pino({ level: 'silent' }) }, new AbortController().signal)).rejects.toThrow(/arrived before the capture was ready/);
    expect(source.committed).toEqual([]);
    expect(sink.published).toEqual([]);
  });
});
