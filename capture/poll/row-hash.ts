/**
 * The per-row hash the engine keeps between passes: xxhash64 (xxhash-wasm) over the canonical
 * values of the mapped columns, so a change to any of them, and only to them, moves it.
 */
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import type { SourceValue } from '../../src/mapping/types.ts';

let api: Promise<XXHashAPI> | undefined;

/** Loads the wasm module once per process. */
export function loadXxhash(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

export class RowHasher {
  /** The row's framed encoding, reused from row to row (grown when a row needs more). */
  private frame = Buffer.allocUnsafe(4096);

  constructor(private readonly xx: XXHashAPI) {}

  static async create(): Promise<RowHasher> {
    return new RowHasher(await loadXxhash());
  }

  /**
   * 16 lower-case hex digits. Each value is framed (a tag byte, its byte length, its bytes),
   * so NULL, '' and bytes are told apart and no two rows share an encoding. The frames are
   * written into one reused buffer and hashed in one call (the same hash as feeding each frame
   * to a streaming hash): a buffer per value and a streaming state per row cost a first read of
   * a million rows ~4 CPU-s of hashing and a third of its garbage collection (docs/benchmarks.md).
   */
  hash(values: readonly SourceValue[]): string {
    let at = 0;
    for (const value of values) {
      // A UTF-16 code unit is at most 3 bytes of UTF-8.
      const most = 5 + (value === null ? 0 : typeof value === 'string' ? value.length * 3 : value.length);
      if (at + most > this.frame.length) this.grow(at, at + most);
      const frame = this.frame;
      if (value === null) {
        frame[at] = 0;
        frame.writeUInt32BE(0, at + 1);
        at += 5;
      } else if (typeof value === 'string') {
        const length = frame.write(value, at + 5, 'utf8');
        frame[at] = 1;
        frame.writeUInt32BE(length, at + 1);
        at += 5 + length;
      } else {
        frame[at] = 2;
        frame.writeUInt32BE(value.length, at + 1);
        frame.set(value, at + 5);
        at += 5 + value.length;
      }
    }
    return this.xx.h64Raw(this.frame.subarray(0, at)).toString(16).padStart(16, '0');
  }

  private grow(keep: number, need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(need, this.frame.length * 2));
    this.frame.copy(bigger, 0, 0, keep);
    this.frame = bigger;
  }

  /** xxhash64 of a string, as an unsigned 64-bit integer (SQLite's registered row hash). */
  h64(text: string): bigint {
    return this.xx.h64(text);
  }
}
