import { hash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../mapping/types.ts';
import { hex8 } from '../util/hex8.ts';
import { keyToken } from './key-token.ts';

/** c create, u update, d delete, r read (snapshot / resync), t truncate (key is null). */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';
export type CaptureMethod = 'log' | 'poll' | 'snapshot' | 'api' | 'webhook';

export interface EnvelopeSource {
  name: string;
  kind: string;
  table: string;
  capture: CaptureMethod;
  /** Unique per change, sorts as a plain string in commit order within a source. */
  position: string;
  commitTs: string | null;
  /** Columns the source did not send (unchanged TOAST) that the bridge read by key. */
  refetched?: string[];
}

export interface Envelope {
  id: string;
  op: Op;
  entity: string;
  key: JsonObject | null;
  before: JsonObject | null;
  after: JsonObject | null;
  source: EnvelopeSource;
  mapping: string;
  ts: string;
}

export interface DeadLetter {
  error: string;
  /** The source row's values as text (bytes as base64), keyed by column. */
  raw: Record<string, string | null>;
  source: EnvelopeSource & { op: Op };
}

/**
 * Same change, same id: derived only from what identifies the change (source, position,
 * table, key, op), never from the time it was read, so replays dedupe in JetStream.
 */
export function envelopeId(sourceName: string, position: string, table: string, key: string, op: Op | 'dlq'): string {
  // The hashed text is JSON.stringify of the tuple. Where no value holds a character it would
  // escape (the common case: positions, key tokens, table names), the same text is joined
  // directly, without the array and the stringify (~0.35 µs an envelope). One-shot hash: the
  // same digest as createHash('sha256').update(text).digest('hex'), without a Hash object.
  const text =
    plainJson(sourceName) && plainJson(position) && plainJson(table) && plainJson(key) && plainJson(op)
      ? '["' + sourceName + '","' + position + '","' + table + '","' + key + '","' + op + '"]'
      : JSON.stringify([sourceName, position, table, key, op]);
  return hash('sha256', text, 'hex').slice(0, 32);
}

/** True when JSON.stringify writes the text between quotes as it is (no quote, backslash, control character or surrogate). */
function plainJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

export function entitySubject(prefix: string, sourceName: string, entity: string, key: JsonObject | null): string {
  const token = key === null ? '_truncate' : keyToken(Object.values(key) as JsonValue[]);
  return `${prefix}.${sourceName}.${entity}.${token}`;
}

export function deadLetterSubject(prefix: string, sourceName: string, entity: string): string {
  return `${prefix}.${sourceName}.dlq.${entity}`;
}

export function statusSubject(prefix: string, sourceName: string): string {
  return `${prefix}.${sourceName}.status`;
}

/**
 * LSN "16/B374D848" -> 16 hex digits, so positions compare as plain strings.
 */
export function lsnToHex16(lsn: string): string {
  const [hi, lo] = lsn.split('/');
  if (hi === undefined || lo === undefined) throw new Error(`invalid LSN "${lsn}"`);
  return hi.padStart(8, '0').toUpperCase() + lo.padStart(8, '0').toUpperCase();
}

export function compareLsn(a: string, b: string): number {
  const x = lsnToHex16(a);
  const y = lsnToHex16(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Commit LSN and the change's ordinal in its transaction (from 1; 0 marks a snapshot). */
export function pgPosition(commitLsn: string, index: number): string {
  return `${lsnToHex16(commitLsn)}-${hex8(index)}`;
}
