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

const encoder = new TextEncoder();

export class RowHasher {
  constructor(private readonly xx: XXHashAPI) {}

  static async create(): Promise<RowHasher> {
    return new RowHasher(await loadXxhash());
  }

  /**
   * 16 lower-case hex digits. Each value is framed (a tag byte, its byte length, its bytes),
   * so NULL, '' and bytes are told apart and no two rows share an encoding.
   */
  hash(values: readonly SourceValue[]): string {
    const h = this.xx.create64();
    const frame = new Uint8Array(5);
    const view = new DataView(frame.buffer);
    for (const value of values) {
      if (value === null) {
        frame[0] = 0;
        view.setUint32(1, 0);
        h.update(frame);
        continue;
      }
      const bytes = typeof value === 'string' ? encoder.encode(value) : value;
      frame[0] = typeof value === 'string' ? 1 : 2;
      view.setUint32(1, bytes.length);
      h.update(frame);
      h.update(bytes);
    }
    return h.digest().toString(16).padStart(16, '0');
  }

  /** xxhash64 of a string, as an unsigned 64-bit integer (SQLite's registered row hash). */
  h64(text: string): bigint {
    return this.xx.h64(text);
  }
}
