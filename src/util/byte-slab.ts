/**
 * Byte strings carved out of shared 64 KB slabs, for what is made once a row and lives about as
 * long as its neighbours (envelope payloads and NATS frames, until their ack).
 *
 * Node's `Buffer.from(string)` does the same with an 8 KB pool: at ~700 bytes an envelope it
 * allocated a new ArrayBuffer every ~11 rows, and the client's publish another one every
 * message for the protocol line, plus one per write to join the parts. An ArrayBuffer costs
 * far more to make and to collect than the bytes in it (docs/benchmarks.md). A view keeps its
 * whole slab alive, so only short-lived values belong here; anything larger than a quarter of
 * a slab gets a buffer of its own.
 */
export class ByteSlab {
  private slab: Buffer;
  private used = 0;
  private target: Buffer;
  private start = 0;

  /**
   * `align`: each take or keep starts the next bytes at a multiple of 8. Without it the bytes
   * kept one after another are contiguous (the publisher sends neighbouring frames as one view).
   */
  constructor(
    private readonly size = 64 * 1024,
    private readonly align = true,
  ) {
    this.slab = Buffer.allocUnsafeSlow(size);
    this.target = this.slab;
  }

  /**
   * A buffer with at least `bytes` free from `offset`: write there, then call take(end). The
   * bytes from `offset` are not zeroed.
   */
  room(bytes: number): Buffer {
    if (bytes > this.size >>> 2) {
      this.target = Buffer.allocUnsafeSlow(bytes);
      this.start = 0;
      return this.target;
    }
    if (this.used + bytes > this.size) {
      this.slab = Buffer.allocUnsafeSlow(this.size);
      this.used = 0;
    }
    this.target = this.slab;
    this.start = this.used;
    return this.slab;
  }

  /** Where the bytes asked for with room() begin. */
  get offset(): number {
    return this.start;
  }

  /** The bytes written since room(), from offset to end, as a view of their own. */
  take(end: number): Buffer {
    const view = this.target.subarray(this.start, end);
    this.keep(end);
    return view;
  }

  /**
   * Keeps the bytes written since room(), from offset to end, without a view of them: the
   * caller kept the buffer room() returned and the offsets.
   */
  keep(end: number): void {
    if (this.target === this.slab) this.used = this.align ? (end + 7) & ~7 : end;
  }

  /**
   * Text as UTF-8 bytes. Written with its exact length: a UTF-8 write into a larger room makes
   * a temporary copy of the text on the heap (~600 bytes for a 440-character envelope), and
   * ASCII text (one byte a character) is written as latin1, the same bytes, cheaper.
   */
  utf8(text: string): Buffer {
    const length = Buffer.byteLength(text, 'utf8');
    const buffer = this.room(length);
    return this.take(this.offset + buffer.write(text, this.offset, length, length === text.length ? 'latin1' : 'utf8'));
  }
}
