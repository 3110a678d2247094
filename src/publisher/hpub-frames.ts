import type { NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError } from '../errors.ts';
import type { OutgoingMessage } from '../ports.ts';
import { ByteSlab } from '../util/byte-slab.ts';

/**
 * Envelope messages as whole NATS protocol frames, written once and handed to the client as
 * they are:
 *
 *   HPUB <subject> <reply> <header bytes> <total bytes>\r\n
 *   NATS/1.0\r\nNats-Msg-Id: <id>\r\nHms-Op: <op>\r\nContent-Type: application/json\r\n\r\n
 *   <payload>\r\n
 *
 * `nc.publish` builds the same bytes for every call from four parts: a protocol line encoded
 * with a TextEncoder (a new ArrayBuffer each message), the header block encoded by a headers
 * object, the payload and a CRLF; the client then joins the parts of a write into a new array.
 * Here the frame is one view of a shared slab (ByteSlab), made once at enqueue and sent again
 * as it is when a re-send is due, and the client's write buffer holds one part a message.
 * The bytes are the client's own (test/integration/publisher/hpub-frames.test.ts compares them on
 * the wire between the client and nats-server), and the header block
 * is exactly what the client's headers object encodes for the same three set() calls.
 *
 * It goes through the client's protocol handler (`protocol.sendCommand`), the same queue and
 * flush `nc.publish` ends in, so ordering with the client's other traffic, buffering while
 * reconnecting and flushing are the client's. That handler is internal to @nats-io/nats-core
 * 3.x: it is checked when a publisher starts, and a client without it is refused with a clear
 * error instead of publishing nothing.
 */
export class HpubWriter {
  private readonly slab = new ByteSlab();
  private readonly protocol: ProtocolHandler;

  constructor(private readonly nc: NatsConnection) {
    const protocol = (nc as unknown as { protocol?: ProtocolHandler }).protocol;
    if (!protocol || typeof protocol.sendCommand !== 'function' || typeof protocol.noMorePublishing !== 'boolean') {
      throw new HmsSyncError(
        'INTERNAL',
        'the NATS client no longer has the protocol handler this build writes frames through (protocol.sendCommand): pin @nats-io/transport-node to 3.4.x',
      );
    }
    this.protocol = protocol;
  }

  /**
   * The whole frame of one message. Throws if a name would break the framing, or if the
   * message is larger than the server's max_payload (a server closes the connection of a
   * client that sends one; translate dead-letters such envelopes before they get here).
   */
  frame(message: OutgoingMessage, reply: string): Buffer {
    const { subject, msgId, op, payload } = message;
    if (!SUBJECT.test(subject) || !SUBJECT.test(reply) || !HEADER_VALUE.test(msgId) || !HEADER_VALUE.test(op)) {
      throw new HmsSyncError('INTERNAL', `a NATS frame cannot carry subject "${subject}", reply "${reply}", id "${msgId}" or op "${op}"`);
    }
    // Printable ASCII only (checked above): one character is one byte.
    const headers = `NATS/1.0\r\nNats-Msg-Id: ${msgId}\r\nHms-Op: ${op}\r\nContent-Type: application/json\r\n\r\n`;
    const total = headers.length + payload.length;
    const max = this.protocol.info?.max_payload;
    if (max !== undefined && total > max) {
      throw new HmsSyncError('PUBLISH', `${subject}: a message of ${total} bytes exceeds the NATS server's max_payload of ${max} bytes`);
    }
    const head = `HPUB ${subject} ${reply} ${headers.length} ${total}\r\n${headers}`;
    const buffer = this.slab.room(head.length + payload.length + 2);
    let at = this.slab.offset;
    at += buffer.write(head, at, 'latin1');
    buffer.set(payload, at);
    at += payload.length;
    buffer[at++] = 0x0d;
    buffer[at++] = 0x0a;
    return this.slab.take(at);
  }

  /** Writes a frame as `nc.publish` would, refused on a closed or draining connection. */
  send(frame: Buffer): void {
    if (this.nc.isClosed()) throw new HmsSyncError('NATS', 'NATS connection closed', { retryable: true });
    if (this.protocol.noMorePublishing) throw new HmsSyncError('NATS', 'NATS connection draining', { retryable: true });
    this.protocol.sendCommand(frame);
  }
}

/** NATS subjects and reply subjects: printable ASCII, no spaces. */
const SUBJECT = /^[\x21-\x7e]+$/;
/** Header values as the client writes them (it trims them): printable ASCII, no edge spaces. */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

interface ProtocolHandler {
  sendCommand(command: Uint8Array): void;
  noMorePublishing: boolean;
  info?: { max_payload?: number };
}
