import { describe, expect, it } from 'vitest';
import { compareLsn, entitySubject, envelopeId, lsnToHex16, pgPosition } from '../../../src/envelope/envelope.ts';

describe('envelope ids and positions', () => {
  it('gives the same change the same id, and any difference a different one', () => {
    const base = envelopeId('fhwa', '0000000001000000-00000001', 'public.t', 'B-1', 'c');
    expect(envelopeId('fhwa', '0000000001000000-00000001', 'public.t', 'B-1', 'c')).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    const variants = [
      envelopeId('fhwb', '0000000001000000-00000001', 'public.t', 'B-1', 'c'),
      envelopeId('fhwa', '0000000001000000-00000002', 'public.t', 'B-1', 'c'),
      envelopeId('fhwa', '0000000001000000-00000001', 'public.u', 'B-1', 'c'),
      envelopeId('fhwa', '0000000001000000-00000001', 'public.t', 'B-2', 'c'),
      envelopeId('fhwa', '0000000001000000-00000001', 'public.t', 'B-1', 'u'),
    ];
    expect(new Set([base, ...variants]).size).toBe(6);
  });

  it('pads LSNs so positions sort as plain strings in commit order', () => {
    const lsns = ['0/16B6F28', '0/9', '1/0', 'A/0', '10/1', '0/FFFFFFFF'];
    const sortedByValue = [...lsns].sort(compareLsn);
    const positions = sortedByValue.map((l) => pgPosition(l, 1));
    expect([...positions].sort()).toEqual(positions);
    expect(lsnToHex16('0/16B6F28')).toBe('00000000016B6F28');
    expect(pgPosition('0/16B6F28', 3)).toBe('00000000016B6F28-00000003');
  });

  it('orders a snapshot row before any change committed at its consistent point', () => {
    expect(pgPosition('0/500', 0) < pgPosition('0/500', 1)).toBe(true);
    expect(pgPosition('0/500', 0xffff) < pgPosition('0/501', 1)).toBe(true);
  });

  it('builds subjects with a key token and a reserved truncate token', () => {
    expect(entitySubject('hms.sync', 'fhwa', 'bridge_inspection', { bridgeId: 'B-1042' })).toBe('hms.sync.fhwa.bridge_inspection.B-1042');
    expect(entitySubject('hms.sync', 'fhwa', 'crew', { a: 'x.y', b: 7 })).toBe('hms.sync.fhwa.crew.x_2Ey~7');
    expect(entitySubject('hms.sync', 'fhwa', 'crew', null)).toBe('hms.sync.fhwa.crew._truncate');
  });
});
