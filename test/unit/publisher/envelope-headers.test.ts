import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { EnvelopeHeaders } from '../../../src/publisher/envelope-headers.ts';

function real(msgId: string, op: string) {
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  h.set('Hms-Op', op);
  h.set('Content-Type', 'application/json');
  return h as unknown as { encode(): Uint8Array; get(k: string): string; keys(): string[] };
}

describe('EnvelopeHeaders', () => {
  it('encodes exactly the bytes of the client headers with the same three values', () => {
    for (const [id, op] of [
      ['0123456789abcdef0123456789abcdef', 'c'],
      ['fedcba9876543210fedcba9876543210', 'dlq'],
    ] as const) {
      expect(Buffer.from(new EnvelopeHeaders(id, op).encode())).toEqual(Buffer.from(real(id, op).encode()));
    }
  });

  it('answers like client headers, and a change made through it is encoded', () => {
    const h = new EnvelopeHeaders('0123456789abcdef0123456789abcdef', 'u');
    expect(h.get('Nats-Msg-Id')).toBe('0123456789abcdef0123456789abcdef');
    expect(h.get('Hms-Op')).toBe('u');
    expect(h.keys()).toEqual(['Nats-Msg-Id', 'Hms-Op', 'Content-Type']);
    expect(h.hasError).toBe(false);
    h.set('Hms-Op', 'd');
    expect(new TextDecoder().decode(h.encode())).toContain('Hms-Op: d\r\n');
  });

  it('refuses a value that would break the header framing', () => {
    expect(() => new EnvelopeHeaders('abc\r\nX: y', 'c')).toThrow();
  });
});
