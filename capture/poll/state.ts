/**
 * Poll state in NATS, through the offsets KV bucket (the OffsetStore port):
 *
 *   poll.<source>                      source head: the pass being sent or last sent, progress
 *   poll.<source>.<t>                  table head: signature, chunk id allocator, hint watermark,
 *                                      which manifest slot and how many pages
 *   poll.<source>.<t>.m<slot>.<page>   manifest pages: each chunk's id, upper key, rows, sum
 *   poll.<source>.<t>.c.<id>           chunk entry: each row's key and xxhash
 *
 * `<t>` is 16 hex digits of sha256 of the table name (a KV key allows few characters).
 *
 * Why KV entries per chunk and not one object per table (object store): a pass that finds a
 * change rewrites one ~30 KB entry, not the whole table's hashes; a restart reads the
 * manifest only and fetches a chunk's entry when that chunk moved; each entry is a single KV
 * value, so it is replaced atomically. Manifest pages are written to the slot the head does
 * not point at, then the head, so a crash mid-write leaves the previous manifest whole.
 *
 * Entries are written only from commit(), after JetStream acknowledged the envelopes they
 * account for: every (key, hash) stored anywhere is something the stream has. The manifest
 * is written at the end of a pass and may lag behind the entries; a lagging manifest only
 * costs re-reads (and, after a crash mid-split, duplicates), never a missed change.
 */
import { createHash } from 'node:crypto';
import type { OffsetStore } from '../../src/ports.ts';
import { decodeKey, encodeKey, type StoredKey } from './key-codec.ts';
import type { KeyValues } from './types.ts';

export const STATE_VERSION = 1;

export interface ChunkState {
  id: number;
  /** Inclusive upper key; null for the last chunk (no upper bound). The lower bound is the previous chunk's upTo. */
  upTo: KeyValues | null;
  rows: number;
  /** Exact sum of the rows' database hashes when last read; null: read the chunk at the next sweep. */
  sum: string | null;
}

/** The first read of a table (every row as `r`), under way. */
export interface Building {
  pass: number;
  startMs: number;
  /** Change index of the next row: a resumed read gives the same rows the same positions. */
  nextIndex: number;
}

export interface TableState {
  signature: string;
  chunks: ChunkState[];
  nextId: number;
  /** Chunk ids free for reuse (their last manifest that referenced them is superseded). */
  free: number[];
  /** Largest hint-column value seen (hint tables). */
  watermark: string | null;
  building?: Building;
  /** Generation of the last manifest written (its slot is gen % 2). */
  gen: number;
}

export interface SourceHead {
  v: number;
  pass: number;
  startMs: number;
  /** Index of the next change of this pass after what is committed. */
  nextIndex: number;
  /** false: the pass was being sent when the bridge stopped; the next start repeats it under the same number. */
  done: boolean;
  updatedAt: string;
}

interface TableHead {
  v: number;
  table: string;
  signature: string;
  gen: number;
  pages: number;
  nextId: number;
  free: number[];
  watermark: string | null;
  building?: Building;
  updatedAt: string;
}

type StoredChunk = [id: number, upTo: StoredKey | null, rows: number, sum: string | null];

interface ManifestPage {
  chunks: StoredChunk[];
}

/** A chunk entry: key -> xxhash of the row as last sent. */
export interface ChunkEntry {
  rows: Array<[key: StoredKey, hash: string]>;
}

/** Everything a manifest write needs, frozen when the checkpoint is made. */
export interface ManifestSnapshot {
  token: string;
  head: TableHead;
  pages: ManifestPage[];
}

/** Largest manifest page (JSON bytes): well under the default 1 MB max_payload. */
const PAGE_BYTES = 256 * 1024;

export function tableToken(table: string): string {
  return createHash('sha256').update(table).digest('hex').slice(0, 16);
}

export class PollStateStore {
  /** Generation of the manifest each table's head points at now. */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly offsets: OffsetStore,
    private readonly source: string,
  ) {}

  sourceKey(): string {
    return `poll.${this.source}`;
  }

  headKey(token: string): string {
    return `poll.${this.source}.${token}`;
  }

  pageKey(token: string, gen: number, page: number): string {
    return `poll.${this.source}.${token}.m${gen % 2}.${page}`;
  }

  entryKey(token: string, id: number): string {
    return `poll.${this.source}.${token}.c.${id}`;
  }

  async getSource(): Promise<SourceHead | undefined> {
    const head = await this.offsets.get<SourceHead>(this.sourceKey());
    return head?.v === STATE_VERSION ? head : undefined;
  }

  async putSource(head: Omit<SourceHead, 'v' | 'updatedAt'>): Promise<void> {
    await this.offsets.put(this.sourceKey(), { v: STATE_VERSION, ...head, updatedAt: new Date().toISOString() });
  }

  /**
   * The table's state, or why there is none: `missing` (first start, or the state was lost),
   * `signature` (the mapping's columns or key changed), `pages` (a manifest page is gone).
   */
  async getTable(token: string): Promise<{ state: TableState } | { lost: 'missing' | 'signature' | 'pages'; gen: number; signature?: string }> {
    const head = await this.offsets.get<TableHead>(this.headKey(token));
    if (!head || head.v !== STATE_VERSION) return { lost: 'missing', gen: 0 };
    const chunks: ChunkState[] = [];
    for (let page = 0; page < head.pages; page++) {
      const stored = await this.offsets.get<ManifestPage>(this.pageKey(token, head.gen, page));
      if (!stored) return { lost: 'pages', gen: head.gen };
      for (const [id, upTo, rows, sum] of stored.chunks) chunks.push({ id, upTo: upTo === null ? null : decodeKey(upTo), rows, sum });
    }
    return {
      state: {
        signature: head.signature,
        chunks,
        nextId: head.nextId,
        free: head.free,
        watermark: head.watermark,
        ...(head.building ? { building: head.building } : {}),
        gen: head.gen,
      },
    };
  }

  knowGeneration(token: string, gen: number): void {
    this.generations.set(token, gen);
  }

  /** A frozen copy of a table's manifest (its generation is given when it is written). */
  snapshot(token: string, table: string, state: TableState, free: number[]): ManifestSnapshot {
    const gen = 0;
    const pages: ManifestPage[] = [];
    let current: StoredChunk[] = [];
    let bytes = 0;
    for (const chunk of state.chunks) {
      const stored: StoredChunk = [chunk.id, chunk.upTo === null ? null : encodeKey(chunk.upTo), chunk.rows, chunk.sum];
      const size = JSON.stringify(stored).length + 1;
      if (current.length > 0 && bytes + size > PAGE_BYTES) {
        pages.push({ chunks: current });
        current = [];
        bytes = 0;
      }
      current.push(stored);
      bytes += size;
    }
    pages.push({ chunks: current });
    return {
      token,
      pages,
      head: {
        v: STATE_VERSION,
        table,
        signature: state.signature,
        gen,
        pages: pages.length,
        nextId: state.nextId,
        free,
        watermark: state.watermark,
        ...(state.building ? { building: { ...state.building } } : {}),
        updatedAt: new Date().toISOString(),
      },
    };
  }

  /** Pages into the slot the head does not point at, then the head. */
  async putManifest(snapshot: ManifestSnapshot): Promise<void> {
    const { token, pages } = snapshot;
    const gen = (this.generations.get(token) ?? 0) + 1;
    const head = { ...snapshot.head, gen };
    for (let i = 0; i < pages.length; i++) await this.offsets.put(this.pageKey(token, gen, i), pages[i]);
    await this.offsets.put(this.headKey(token), head);
    this.generations.set(token, gen);
  }

  async getEntry(key: string): Promise<ChunkEntry | undefined> {
    return this.offsets.get<ChunkEntry>(key);
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.offsets.put(key, value);
  }

  async delete(key: string): Promise<void> {
    await this.offsets.delete(key);
  }

  /**
   * Forgets the source's poll state (its head and every table head): the next pass reads each
   * table whole and sends it as `r`. Used when the source comes back to polling after log
   * capture, when the stored hashes no longer say what the stream holds.
   */
  async forget(tables: readonly string[]): Promise<void> {
    for (const table of tables) await this.offsets.delete(this.headKey(tableToken(table)));
    await this.offsets.delete(this.sourceKey());
  }

  async deleteTable(token: string): Promise<void> {
    await this.offsets.delete(this.headKey(token));
  }
}
