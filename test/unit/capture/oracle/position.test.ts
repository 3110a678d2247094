import { describe, expect, it } from 'vitest';
import { compareScn, minScn, oraclePosition, parseOraclePosition, snapshotPosition } from '../../../../capture/oracle/position.ts';

describe('oracle positions', () => {
  it('are fixed width: 20 SCN digits, a dash, 8 hex digits', () => {
    expect(oraclePosition('2758', 1)).toBe('00000000000000002758-00000001');
    expect(snapshotPosition('2758')).toBe('00000000000000002758-00000000');
    expect(oraclePosition('18446744073709551615', 0xabc)).toBe('18446744073709551615-00000ABC');
    expect(() => oraclePosition('123456789012345678901', 1)).toThrow(/20-digit/);
    expect(() => oraclePosition('12a', 1)).toThrow(/invalid SCN/);
  });

  it('sort as plain strings in commit order, snapshot rows before the changes committed after them', () => {
    const scns = ['9', '10', '99', '100', '9007199254740993', '9007199254740994', '18446744073709551615'];
    const positions = scns.flatMap((scn) => [oraclePosition(scn, 2), oraclePosition(scn, 1), snapshotPosition(scn)]);
    const sorted = [...positions].sort();
    const byValue = [...positions].sort((a, b) => {
      const x = parseOraclePosition(a);
      const y = parseOraclePosition(b);
      return compareScn(x.commitScn, y.commitScn) || x.index - y.index;
    });
    expect(sorted).toEqual(byValue);
    expect(sorted[0]).toBe(snapshotPosition('9'));
    expect(snapshotPosition('10') < oraclePosition('11', 1)).toBe(true);
  });

  it('compares SCNs beyond 2^53 exactly', () => {
    expect(compareScn('9007199254740993', '9007199254740992')).toBe(1);
    expect(minScn('9007199254740993', '9007199254740992')).toBe('9007199254740992');
    expect(parseOraclePosition('00000000000000002758-0000000A')).toEqual({ commitScn: '2758', index: 10 });
  });
});
