import { describe, expect, it } from 'vitest';
import { buildReport, listItem, newReportId, resolved, sortReports, type BuildReportInput } from '../../../reconcile/report.ts';
import type { RowDiff } from '../../../reconcile/types.ts';

const diff = (id: number, kind: RowDiff['kind'], extra: Partial<RowDiff> = {}): RowDiff => ({ key: { id }, kind, sortKey: [String(id)], ...extra });

const input = (diffs: RowDiff[], more: Partial<BuildReportInput> = {}): BuildReportInput => ({
  id: 'r1',
  source: 'fhwa',
  table: 'public.inspections',
  entity: 'bridge_inspection',
  createdAt: '2026-11-21T02:00:00.000Z',
  runStartPosition: '0000000001000000-00000000',
  target: 'stream',
  targetCaughtUp: true,
  keyColumns: ['BRG_ID'],
  diffs,
  ...more,
});

describe('diff reports', () => {
  it('a clean run opens no report', () => {
    expect(buildReport(input([]))).toBeUndefined();
  });

  it('counts each kind, lists diffs as { key, kind, fields? } with the source keys beside them', () => {
    const report = buildReport(
      input([
        diff(1, 'missingInTarget', { sourceKey: ['1'] }),
        diff(2, 'different', { sourceKey: ['2'], fields: [{ field: 'status', source: 'active', target: 'closed' }], targetPosition: 'x' }),
        diff(3, 'missingInSource'),
      ]),
    )!;
    expect(report.counts).toEqual({ missingInTarget: 1, missingInSource: 1, different: 1 });
    expect(report.diffs).toEqual([
      { key: { id: 1 }, kind: 'missingInTarget' },
      { key: { id: 2 }, kind: 'different', fields: [{ field: 'status', source: 'active', target: 'closed' }] },
      { key: { id: 3 }, kind: 'missingInSource' },
    ]);
    expect(report.sourceKeys).toEqual([['1'], ['2'], null]);
    expect(report.status).toBe('open');
    expect(report.moreDiffs).toBe(0);
    expect(listItem(report)).toEqual({
      id: 'r1',
      source: 'fhwa',
      table: 'public.inspections',
      status: 'open',
      createdAt: '2026-11-21T02:00:00.000Z',
      counts: { missingInTarget: 1, missingInSource: 1, different: 1 },
    });
  });

  it('caps the listed diffs and says how many more; counts stay complete', () => {
    const many = Array.from({ length: 2500 }, (_, i) => diff(i, i % 2 ? 'missingInTarget' : 'missingInSource'));
    const report = buildReport(input(many, { maxDiffs: 100 }))!;
    expect(report.diffs).toHaveLength(100);
    expect(report.sourceKeys).toHaveLength(100);
    expect(report.moreDiffs).toBe(2400);
    expect(report.counts).toEqual({ missingInTarget: 1250, missingInSource: 1250, different: 0 });
  });

  it('fits a size limit: long values are cut first, then fewer diffs are listed', () => {
    const long = 'x'.repeat(50_000);
    const diffs = Array.from({ length: 40 }, (_, i) => diff(i, 'different', { fields: [{ field: 'note', source: long, target: 'y' }] }));
    const report = buildReport(input(diffs, { maxBytes: 20_000 }))!;
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThanOrEqual(20_000);
    expect(report.diffs.length + report.moreDiffs).toBe(40);
    expect(String(report.diffs[0]!.fields![0]!.source)).toMatch(/more characters not shown\]$/);
  });

  it('ids sort by creation time; resolving records who, when and a note', () => {
    expect(newReportId('2026-11-21T02:00:05.123Z', 'abcdef')).toBe('20261121-020005-abcdef');
    const report = buildReport(input([diff(1, 'missingInTarget')]))!;
    const done = resolved(report, { action: 'resolve', by: 'alice', at: '2026-11-21T09:00:00.000Z', note: 'known outage' });
    expect(done.status).toBe('resolved');
    expect(done.resolution).toEqual({ action: 'resolve', by: 'alice', at: '2026-11-21T09:00:00.000Z', note: 'known outage' });
    const sorted = sortReports([
      { id: 'a', createdAt: '2026-01-01T00:00:00Z' },
      { id: 'b', createdAt: '2026-03-01T00:00:00Z' },
      { id: 'c', createdAt: '2026-02-01T00:00:00Z' },
    ]);
    expect(sorted.map((r) => r.id)).toEqual(['b', 'c', 'a']);
  });
});
