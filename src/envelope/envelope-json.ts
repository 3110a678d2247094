import type { ByteSlab } from '../util/byte-slab.ts';
import type { Envelope, EnvelopeSource } from './envelope.ts';

/**
 * An envelope's JSON written as UTF-8 bytes, field by field, straight into the payload slab
 * (byte-slab.ts): the same bytes as `Buffer.from(JSON.stringify(envelope))`
 * (test/unit/envelope/envelope-json.test.ts compares the two on generated envelopes and on
 * every awkward string: quotes, backslashes, control characters, lone surrogates, U+FEFF).
 *
 * Why not JSON.stringify: for a 440-byte envelope it builds its result in pieces, joined into
 * a string that the UTF-8 write then flattens again, ~2 KB of short-lived heap a row (a
 * quarter of what the bridge allocated a row, docs/benchmarks.md). Here the field names are
 * bytes made once, plain ASCII text is copied a character at a time, and anything else in a
 * string (non-ASCII, quotes, escapes) is left to JSON.stringify of that one string, so the
 * escaping rules are JSON.stringify's own.
 */
export class EnvelopeJson {
  /** Where the bytes go: the payload slab, or `scratch` once an envelope outgrew the slab's room. */
  private buffer: Buffer = Buffer.alloc(0);
  private at = 0;
  /** Where the envelope begins in `buffer`. */
  private start = 0;
  private inSlab = true;
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);
  /** No member written yet in the object being written. */
  private first = true;

  /** The envelope's JSON, as a view of `slab`. */
  write(envelope: Envelope, slab: ByteSlab): Buffer {
    // Straight into the slab's free room (at least ROOM bytes, usually the rest of the slab);
    // an envelope that outgrows it moves to the scratch buffer and is copied at the end.
    this.buffer = slab.room(ROOM);
    this.start = this.at = slab.offset;
    this.inSlab = true;
    // Each field read by name (a keyed read over a list of names was slower than the
    // stringify it replaces); the unit test compares the output with JSON.stringify's for an
    // envelope with every field set, so a field missing here fails it.
    this.byte(0x7b); // {
    this.first = true;
    this.member(E.id, envelope.id);
    this.member(E.op, envelope.op);
    this.member(E.entity, envelope.entity);
    this.member(E.key, envelope.key);
    this.member(E.before, envelope.before);
    this.member(E.after, envelope.after);
    const source = envelope.source;
    if (source !== undefined) {
      this.name(E.source);
      this.byte(0x7b);
      this.first = true;
      this.member(S.name, source.name);
      this.member(S.kind, source.kind);
      this.member(S.table, source.table);
      this.member(S.capture, source.capture);
      this.member(S.position, source.position);
      this.member(S.commitTs, source.commitTs);
      this.member(S.refetched, source.refetched);
      this.byte(0x7d);
      this.first = false;
    }
    this.member(E.mapping, envelope.mapping);
    this.member(E.ts, envelope.ts);
    this.byte(0x7d); // }
    if (this.inSlab) return slab.take(this.at);
    const out = slab.room(this.at);
    this.buffer.copy(out, slab.offset, 0, this.at);
    return slab.take(slab.offset + this.at);
  }

  /** `"name":value`; left out when the value is undefined, as JSON.stringify leaves it out. */
  private member(prefix: Buffer, value: unknown): void {
    if (value === undefined) return;
    this.name(prefix);
    this.value(value);
  }

  /** `"name":`, after a comma unless it is its object's first member. */
  private name(prefix: Buffer): void {
    if (!this.first) this.byte(0x2c); // ,
    this.first = false;
    this.bytes(prefix);
  }

  private value(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return;
      case 'number':
        this.number(value);
        return;
      case 'boolean':
        this.ascii(value ? 'true' : 'false');
        return;
      case 'object':
        if (value === null) this.ascii('null');
        else if (Array.isArray(value)) this.array(value);
        else if (isPlainObject(value)) this.object(value as Record<string, unknown>);
        else this.stringified(value); // toJSON (a Date), typed arrays, ...: JSON.stringify's rules
        return;
      default:
        this.stringified(value); // bigint throws as JSON.stringify does
    }
  }

  private object(object: Record<string, unknown>): void {
    this.byte(0x7b);
    let first = true;
    for (const key of Object.keys(object)) {
      const value = object[key];
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
      if (!first) this.byte(0x2c);
      first = false;
      this.string(key);
      this.byte(0x3a); // :
      this.value(value);
    }
    this.byte(0x7d);
  }

  private array(array: readonly unknown[]): void {
    this.byte(0x5b); // [
    for (let i = 0; i < array.length; i++) {
      if (i > 0) this.byte(0x2c);
      const value = array[i];
      // In an array, JSON.stringify writes these as null.
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') this.ascii('null');
      else this.value(value);
    }
    this.byte(0x5d); // ]
  }

  /** A string in quotes: printable ASCII copied as it is, anything else by JSON.stringify. */
  private string(text: string): void {
    const length = text.length;
    this.reserve(length + 2);
    const buffer = this.buffer;
    let at = this.at;
    buffer[at++] = 0x22; // "
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.stringified(text);
        return;
      }
      buffer[at++] = c;
    }
    buffer[at++] = 0x22;
    this.at = at;
  }

  private number(value: number): void {
    // String() of a finite number is JSON.stringify's text of it (-0 as 0); NaN and Infinity are null.
    this.ascii(Number.isFinite(value) ? String(value) : 'null');
  }

  /** JSON.stringify's text of one value, as UTF-8. */
  private stringified(value: unknown): void {
    const text = JSON.stringify(value);
    this.reserve(text.length * 3);
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  private ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buffer[this.at++] = text.charCodeAt(i);
  }

  private bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i]!;
    this.at = at;
  }

  private byte(byte: number): void {
    this.reserve(1);
    this.buffer[this.at++] = byte;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const written = this.at - this.start;
    if (this.buffer === this.scratch || this.scratch.length < written + bytes) {
      this.scratch = Buffer.allocUnsafeSlow(Math.max(this.scratch.length * 2, written + bytes));
    }
    this.buffer.copy(this.scratch, 0, this.start, this.at); // from the slab, or from the outgrown scratch
    this.buffer = this.scratch;
    this.start = 0;
    this.at = written;
    this.inSlab = false;
  }
}

/** Free bytes asked of the slab before an envelope is written (envelopes are ~300 to 1,500). */
const ROOM = 2048;

/** `"name":` of each listed name, as bytes. */
function prefixes<N extends string>(names: readonly N[]): Record<N, Buffer> {
  return Object.fromEntries(names.map((name) => [name, Buffer.from(`${JSON.stringify(name)}:`, 'utf8')])) as Record<N, Buffer>;
}

/** In the order translate builds them (JSON.stringify follows insertion order). */
const ENVELOPE_NAMES = ['id', 'op', 'entity', 'key', 'before', 'after', 'source', 'mapping', 'ts'] as const satisfies readonly (keyof Envelope)[];
const SOURCE_NAMES = ['name', 'kind', 'table', 'capture', 'position', 'commitTs', 'refetched'] as const satisfies readonly (keyof EnvelopeSource)[];

// A field added to Envelope or EnvelopeSource and not listed above fails to compile here.
const everyField: [Exclude<keyof Envelope, (typeof ENVELOPE_NAMES)[number]>, Exclude<keyof EnvelopeSource, (typeof SOURCE_NAMES)[number]>] extends [never, never]
  ? true
  : never = true;
void everyField;

const E = prefixes(ENVELOPE_NAMES);
const S = prefixes(SOURCE_NAMES);

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}
