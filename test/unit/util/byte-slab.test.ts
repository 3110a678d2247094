import { describe, expect, it } from 'vitest';
import { ByteSlab } from '../../../src/util/byte-slab.ts';

describe('ByteSlab', () => {
  it('gives the same UTF-8 bytes as Buffer.from, for ASCII, multibyte, astral and lone surrogate text', () => {
    const slab = new ByteSlab(1024);
    const texts = ['', 'plain ascii {"a":1}', 'Zoë', '漢字', '😀 x', '\ud800 lone', 'x\udfff', '\ufeffbom', 'é'.repeat(300), 'a'.repeat(257)];
    for (let round = 0; round < 20; round++) {
      for (const text of texts) expect(slab.utf8(text)).toEqual(Buffer.from(text, 'utf8'));
    }
  });

  it('keeps every view its own bytes across slabs, and gives large values a buffer of their own', () => {
    const slab = new ByteSlab(4096);
    const made: Array<[string, Buffer]> = [];
    for (let i = 0; i < 500; i++) {
      const text = `${i}:` + String.fromCharCode(0x61 + (i % 26)).repeat(i % 7 === 0 ? 2000 : i % 50) + (i % 3 === 0 ? 'ü' : '');
      made.push([text, slab.utf8(text)]);
    }
    for (const [text, bytes] of made) expect(bytes.toString('utf8')).toBe(text);
    const big = slab.utf8('z'.repeat(2000));
    expect(big.buffer.byteLength).toBe(2000);
  });

  it('hands out room for bytes written by hand, then only what was taken', () => {
    const slab = new ByteSlab(256);
    const first = slab.room(10);
    const start = slab.offset;
    first.write('hello', start, 'latin1');
    const hello = slab.take(start + 5);
    const second = slab.room(10);
    second.write('world', slab.offset, 'latin1');
    const world = slab.take(slab.offset + 5);
    expect([hello.toString(), world.toString()]).toEqual(['hello', 'world']);
    expect(world.byteOffset).toBeGreaterThanOrEqual(hello.byteOffset + 5);
  });
});
