import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { formatSize, parseSize } from '../../../src/config/size.ts';
import { HmsSyncError } from '../../../src/errors.ts';

const GiB = 1024 ** 3;

function config(extra: string): string {
  return ['sources:', '  - name: fhwa', '    kind: postgres', '    url: postgres://reader@127.0.0.1:5432/legacy', ...extra.split('\n').filter(Boolean).map((l) => `    ${l}`), ''].join('\n');
}

describe('sizes', () => {
  it('reads units as powers of 1024, as PostgreSQL does, case-insensitively', () => {
    expect(parseSize('1GB')).toBe(GiB);
    expect(parseSize('1GiB')).toBe(GiB);
    expect(parseSize('512MB')).toBe(512 * 1024 ** 2);
    expect(parseSize('64kB')).toBe(64 * 1024);
    expect(parseSize('64kb')).toBe(64 * 1024);
    expect(parseSize('1.5 GB')).toBe(1.5 * GiB);
    expect(parseSize('2TB')).toBe(2 * 1024 ** 4);
    expect(parseSize('1B')).toBe(1);
    expect(parseSize(' 100b ')).toBe(100);
  });

  it('refuses a bare number, an unknown unit and garbage', () => {
    for (const bad of ['1024', '1 GBs', '1PB', 'GB', '-1GB', '1e3MB', '']) expect(parseSize(bad), bad).toBeUndefined();
  });

  it('formats sizes for people', () => {
    expect(formatSize(300)).toBe('300 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(GiB)).toBe('1.0 GiB');
  });
});

describe('sources[].maxSlotLag', () => {
  it('defaults to 1 GiB', () => {
    expect(parseConfig('/tmp/hms-sync.yaml', config(''), {}).sources[0]!.maxSlotLagBytes).toBe(GiB);
  });

  it('takes a size with a unit', () => {
    expect(parseConfig('/tmp/hms-sync.yaml', config('maxSlotLag: 256MB'), {}).sources[0]!.maxSlotLagBytes).toBe(256 * 1024 ** 2);
    expect(parseConfig('/tmp/hms-sync.yaml', config('maxSlotLag: 1B'), {}).sources[0]!.maxSlotLagBytes).toBe(1);
  });

  it('names the file, line and key of a bad value', () => {
    for (const [value, message] of [
      ['1073741824', /sources\[0\]\.maxSlotLag.*a bare number has no unit/],
      ['"lots"', /sources\[0\]\.maxSlotLag.*invalid size "lots"/],
      ['0B', /must be at least 1 bytes/],
    ] as const) {
      const error = (() => {
        try {
          parseConfig('/tmp/hms-sync.yaml', config(`maxSlotLag: ${value}`), {});
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, value).toBeInstanceOf(HmsSyncError);
      expect((error as HmsSyncError).message, value).toMatch(/hms-sync\.yaml:5/);
      expect((error as HmsSyncError).message, value).toMatch(message);
    }
  });
});
