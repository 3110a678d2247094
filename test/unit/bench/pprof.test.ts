import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { describeFunctions, readCpuProfile } from '../../../bench/pprof.ts';

// nats-server's CPU profile is gzip around profile.proto; the bench reads it without Go's
// tools. The profiles here are written field by field, the way the Go runtime writes them.
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}
const number = (field: number, n: number): number[] => [...varint(field << 3), ...varint(n)];
const bytes = (field: number, body: number[]): number[] => [...varint((field << 3) | 2), ...varint(body.length), ...body];
const packed = (field: number, ns: number[]): number[] => bytes(field, ns.flatMap(varint));
const text = (field: number, s: string): number[] => bytes(field, [...Buffer.from(s)]);

/** Functions 1..n named by `names`; each location lists its functions innermost first (inlining). */
function profile(names: string[], locations: number[][], samples: { stack: number[]; ns: number; packedStack?: boolean }[]): Uint8Array {
  const body: number[] = [
    bytes(1, [...number(1, 1), ...number(2, 2)]), // sample_type: samples/count
    bytes(1, [...number(1, 3), ...number(2, 4)]), // sample_type: cpu/nanoseconds
    ...samples.map(({ stack, ns, packedStack = true }) =>
      bytes(2, [...(packedStack ? packed(1, stack) : stack.flatMap((id) => number(1, id))), ...packed(2, [1, ns])]),
    ),
    ...locations.map((functions, i) => bytes(4, [...number(1, i + 1), ...number(3, 0x4000 + i), ...functions.flatMap((f) => bytes(4, [...number(1, f), ...number(2, 7)]))])),
    ...names.map((_, i) => bytes(5, [...number(1, i + 1), ...number(2, 5 + i), ...number(4, 1)])),
    ...['', 'samples', 'count', 'cpu', 'nanoseconds', ...names].map((s) => text(6, s)),
    ...number(9, 1_000_000), // period: skipped
  ].flat();
  return gzipSync(Uint8Array.from(body));
}

describe('a Go CPU profile', () => {
  // Location 1 is A inlined into B, location 2 is C, location 3 is D. C calls itself in the third sample.
  const gz = profile(
    ['pwrite', 'writeAt', 'processInboundClientMsg', 'Sublist.Match'],
    [[1, 2], [3], [4]],
    [
      { stack: [1, 2], ns: 30_000_000 },
      { stack: [3, 2], ns: 10_000_000, packedStack: false },
      { stack: [2, 2], ns: 60_000_000 },
    ],
  );

  it('gives each function its own and cumulative share, a function counted once a sample', () => {
    const read = readCpuProfile(gz);
    expect(read.seconds).toBeCloseTo(0.1, 12);
    const by = new Map(read.functions.map((f) => [f.name, f]));
    expect(by.get('processInboundClientMsg')).toEqual({ name: 'processInboundClientMsg', self: 0.6, cumulative: 1 });
    expect(by.get('pwrite')).toEqual({ name: 'pwrite', self: 0.3, cumulative: 0.3 });
    expect(by.get('writeAt')).toEqual({ name: 'writeAt', self: 0, cumulative: 0.3 });
    expect(by.get('Sublist.Match')).toEqual({ name: 'Sublist.Match', self: 0.1, cumulative: 0.1 });
    expect(read.functions.map((f) => f.name)).toEqual(['processInboundClientMsg', 'pwrite', 'writeAt', 'Sublist.Match']);
  });

  it('lists the functions asked for with their cumulative share', () => {
    expect(describeFunctions(readCpuProfile(gz), /^(pwrite|Sublist\.Match)$/)).toEqual([' 30.0 % pwrite', ' 10.0 % Sublist.Match']);
  });

  it('refuses a truncated profile', () => {
    const whole = profile(['f'], [[1]], [{ stack: [1], ns: 5 }]);
    const cut = gzipSync(gunzipSync(whole).subarray(0, 9));
    expect(() => readCpuProfile(cut)).toThrow(/pprof: truncated/);
  });
});

