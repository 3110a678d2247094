import { describe, expect, it } from 'vitest';
import {
  MariadbGtidState,
  comparePoints,
  describePoint,
  fileSequence,
  mysqlPosition,
  snapshotPosition,
} from '../../../capture/mysql/position.ts';
import { replicaServerId } from '../../../capture/mysql/mysql-source.ts';

describe('MySQL positions', () => {
  it('is file sequence, transaction offset and index, fixed width', () => {
    expect(mysqlPosition('binlog.000001', 2758, 1)).toBe('0000000001-0000002758-00000001');
    expect(mysqlPosition('mysql-bin.000042', 4_294_967_295, 0x186a0)).toBe('0000000042-4294967295-000186A0');
    expect(mysqlPosition('binlog.1000000', 4, 255)).toBe('0001000000-0000000004-000000FF');
  });

  it('sorts as a plain string in commit order: by file, then transaction offset, then index', () => {
    const inOrder = [
      mysqlPosition('binlog.000009', 4_000_000_000, 7),
      mysqlPosition('binlog.000010', 256, 1),
      mysqlPosition('binlog.000010', 256, 2),
      mysqlPosition('binlog.000010', 256, 10),
      mysqlPosition('binlog.000010', 256, 0x10000),
      mysqlPosition('binlog.000010', 1_024, 1),
      mysqlPosition('binlog.000010', 99_999, 1),
      mysqlPosition('binlog.000010', 100_000, 1),
      mysqlPosition('binlog.000100', 4, 1),
      mysqlPosition('binlog.1000000', 4, 1),
    ];
    expect([...inOrder].sort()).toEqual(inOrder);
  });

  it('puts snapshot rows before the first change of the transaction that starts at the snapshot point', () => {
    const point = { file: 'binlog.000003', pos: 7_349 };
    const snapshot = snapshotPosition(point);
    expect(snapshot).toBe('0000000003-0000007349-00000000');
    // The next transaction starts where the snapshot's point is.
    expect(snapshot < mysqlPosition('binlog.000003', 7_349, 1)).toBe(true);
    // Anything committed before the point ends at or before it: its offset is smaller.
    expect(mysqlPosition('binlog.000003', 7_000, 0xffff) < snapshot).toBe(true);
    // A rotation right after the point: the next file sorts after.
    expect(snapshot < mysqlPosition('binlog.000004', 256, 1)).toBe(true);
  });

  it('refuses what would break the fixed width', () => {
    expect(() => mysqlPosition('binlog', 4, 1)).toThrow(/no numeric suffix/);
    expect(() => mysqlPosition('binlog.000001', 10_000_000_000, 1)).toThrow(/does not fit/);
    expect(() => fileSequence('binlog.abc')).toThrow(/binlog\.abc/);
  });

  it('compares resume points by file, then offset', () => {
    expect(comparePoints({ file: 'binlog.000002', pos: 4 }, { file: 'binlog.000001', pos: 9_999_999 })).toBe(1);
    expect(comparePoints({ file: 'binlog.000002', pos: 4 }, { file: 'binlog.000002', pos: 5 })).toBe(-1);
    expect(comparePoints({ file: 'binlog.000002', pos: 5, gtid: '0-1-1' }, { file: 'binlog.000002', pos: 5 })).toBe(0);
    expect(describePoint({ file: 'binlog.000002', pos: 5, gtid: '0-1-9' })).toBe('binlog.000002:5 (GTID 0-1-9)');
    expect(describePoint({ file: 'binlog.000002', pos: 5 })).toBe('binlog.000002:5');
  });
});

describe('MariaDB GTID state', () => {
  it('keeps the last GTID per domain, in domain order', () => {
    const state = new MariadbGtidState('1-2-7,0-1-100');
    expect(state.toString()).toBe('0-1-100,1-2-7');
    state.set(0, 1, 101n);
    state.set(5, 3, 1n);
    state.set(1, 4, 8n);
    expect(state.toString()).toBe('0-1-101,1-4-8,5-3-1');
    expect(new MariadbGtidState('').toString()).toBe('');
    expect(() => new MariadbGtidState('x-1-2')).toThrow(/invalid MariaDB GTID/);
  });
});

describe('replica server id', () => {
  it('is fixed per source name and stays clear of small ids a DBA hands out', () => {
    expect(replicaServerId('fhwa')).toBe(replicaServerId('fhwa'));
    expect(replicaServerId('fhwa')).not.toBe(replicaServerId('fhwb'));
    for (const name of ['a', 'fhwa', 'legacy-db', 'x_1']) {
      expect(replicaServerId(name)).toBeGreaterThanOrEqual(0x4000_0000);
      expect(replicaServerId(name)).toBeLessThan(2 ** 32);
    }
  });
});
