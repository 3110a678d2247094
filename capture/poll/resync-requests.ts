/**
 * Re-emit requests for a polled source (`review resync`, `snapshot`): written by the CLI into
 * the offsets bucket, picked up by the running poll engine at the start of its next full pass.
 *
 * Why through the engine and not straight from the CLI: a poll position is a pass's start time
 * and a counter. A pass that started before the CLI read a row may read it after a later change
 * and publish that newer version at a position sorting before the CLI's: consumers would keep
 * the CLI's older row, and the engine, having sent the newer one, would never send it again.
 * Inside the engine the re-read rows take the pass's own positions, after everything the engine
 * sent before and before everything it sends after, so per-key order holds.
 *
 *   poll.<source>.resync.<id>   { id, table, keys?, requestedAt, by? }
 *
 * `keys` are source key values (canonical text, in key column order); absent means the whole
 * table (a `snapshot`). The request is deleted once what it emitted is acknowledged.
 */
import type { KV } from '@nats-io/kv';
import type { OffsetStore } from '../../src/ports.ts';

export interface ResyncRequest {
  /** The review report's id, or `snapshot-…` for a whole-table request. */
  id: string;
  /** "schema.table" as in the mapping file. */
  table: string;
  /** Source key values per key, in key column order; absent: every row of the table. */
  keys?: string[][];
  requestedAt: string;
  by?: string;
}

export interface PendingRequest {
  /** Its key in the offsets bucket (deleted once done). */
  key: string;
  request: ResyncRequest;
}

/** Where the engine finds requests. */
export interface ResyncQueue {
  pending(): Promise<PendingRequest[]>;
}

export function resyncRequestPrefix(sourceName: string): string {
  return `poll.${sourceName}.resync`;
}

export function resyncRequestKey(sourceName: string, id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_=-]/g, '_');
  return `${resyncRequestPrefix(sourceName)}.${safe}`;
}

/** Writes a request (the CLI side). */
export async function queueResync(offsets: Pick<OffsetStore, 'put'>, sourceName: string, request: ResyncRequest): Promise<string> {
  const key = resyncRequestKey(sourceName, request.id);
  await offsets.put(key, request);
  return key;
}

/** Requests of one source in the offsets KV bucket, oldest first. */
export class KvResyncQueue implements ResyncQueue {
  constructor(
    private readonly kv: KV,
    private readonly sourceName: string,
  ) {}

  async pending(): Promise<PendingRequest[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(`${resyncRequestPrefix(this.sourceName)}.*`)) keys.push(key);
    const out: PendingRequest[] = [];
    for (const key of keys) {
      const entry = await this.kv.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
      try {
        const request = entry.json<ResyncRequest>();
        if (typeof request?.table === 'string') out.push({ key, request });
      } catch {
        // Not a request this build wrote: left alone.
      }
    }
    return out.sort((a, b) => (a.request.requestedAt < b.request.requestedAt ? -1 : a.request.requestedAt > b.request.requestedAt ? 1 : 0));
  }
}
