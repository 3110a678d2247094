import { headers as natsHeaders, type Match, type MsgHdrs } from '@nats-io/transport-node';

/**
 * The three headers of every envelope message (Nats-Msg-Id, Hms-Op, Content-Type), encoded
 * once: the client's own MsgHdrs validates and canonicalizes each key on every set() and
 * re-encodes the whole block on every publish, a measurable share of the bridge's CPU per
 * message (docs/benchmarks.md). The bytes are exactly what MsgHdrs would encode for the same
 * three set() calls; anything else asked of this object is answered by a real MsgHdrs built
 * on first use, so it behaves as one.
 */
export class EnvelopeHeaders implements MsgHdrs {
  private bytes: Uint8Array | undefined;
  private full: MsgHdrs | undefined;

  constructor(
    private readonly msgId: string,
    private readonly op: string,
  ) {
    // Header values cannot hold CR or LF; ids are hex and ops are op codes, so this never
    // fires, but a value that would break the framing must never be written raw.
    if (/[\r\n]/.test(msgId) || /[\r\n]/.test(op)) throw new TypeError('header values cannot contain \\r or \\n');
  }

  encode(): Uint8Array {
    if (this.full) return (this.full as unknown as { encode(): Uint8Array }).encode();
    // ASCII only: latin1 is the same bytes as UTF-8 here, and cheaper to produce.
    this.bytes ??= Buffer.from(`NATS/1.0\r\nNats-Msg-Id: ${this.msgId.trim()}\r\nHms-Op: ${this.op.trim()}\r\nContent-Type: application/json\r\n\r\n`, 'latin1');
    return this.bytes;
  }

  toString(): string {
    return Buffer.from(this.encode()).toString('utf8');
  }

  private real(): MsgHdrs {
    if (!this.full) {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', this.msgId);
      h.set('Hms-Op', this.op);
      h.set('Content-Type', 'application/json');
      this.full = h;
    }
    return this.full;
  }

  get hasError(): boolean {
    return false;
  }
  get status(): string {
    return this.real().status;
  }
  get code(): number {
    return 0;
  }
  get description(): string {
    return '';
  }
  get(k: string, match?: Match): string {
    return this.real().get(k, match);
  }
  set(k: string, v: string, match?: Match): void {
    this.real().set(k, v, match);
  }
  append(k: string, v: string, match?: Match): void {
    this.real().append(k, v, match);
  }
  has(k: string, match?: Match): boolean {
    return this.real().has(k, match);
  }
  keys(): string[] {
    return this.real().keys();
  }
  values(k: string, match?: Match): string[] {
    return this.real().values(k, match);
  }
  delete(k: string, match?: Match): void {
    this.real().delete(k, match);
  }
  last(k: string, match?: Match): string {
    return this.real().last(k, match);
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.real()[Symbol.iterator]();
  }
}
