import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../../src/mapping/index.ts';
import type { Mapping, SourceColumn, SourceColumnKind } from '../../../src/mapping/types.ts';
import { tableRoute, translate, type TranslateContext } from '../../../src/pipeline/translate.ts';
import type { RawChange } from '../../../src/ports.ts';

const { mapping } = parseMapping(
  'mappings/fhwa/INSPECTIONS.yaml',
  `table: public.inspections
entity: bridge_inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd }
  remarks:  { from: REMARKS }
`,
);
const route = tableRoute(mapping as Mapping, ['BRG_ID']);
const ctx = { sourceName: 'fhwa', sourceKind: 'postgres', subjectPrefix: 'hms.sync' };
const kinds: Record<string, SourceColumnKind> = { BRG_ID: 'text', NEXT_INSP_DT: 'integer', REMARKS: 'text' };
const columns = new Map<string, SourceColumn>(Object.entries(kinds).map(([name, kind]) => [name, { name, kind, nativeType: kind }]));
const decode = (payload: Uint8Array) => JSON.parse(new TextDecoder().decode(payload));

function change(partial: Partial<RawChange>): RawChange {
  return {
    op: 'c',
    table: 'public.inspections',
    position: '0000000001000000-00000001',
    commitTs: '2026-11-21T14:00:00.000Z',
    capture: 'log',
    row: { BRG_ID: 'B-1   ', NEXT_INSP_DT: '20240902', REMARKS: 'ok' },
    before: null,
    keyRow: { BRG_ID: 'B-1   ' },
    columns,
    ...partial,
  };
}

describe('translate', () => {
  it('maps a row into an envelope with a deterministic id as Nats-Msg-Id', () => {
    const a = translate(change({}), route, ctx, '2026-11-21T14:00:00.010Z');
    const b = translate(change({}), route, ctx, '2026-11-21T15:00:00.000Z');
    expect(a.message.subject).toBe('hms.sync.fhwa.bridge_inspection.B-1');
    expect(a.message.msgId).toBe(b.message.msgId);
    expect(decode(a.message.payload)).toMatchObject({
      id: a.message.msgId,
      op: 'c',
      key: { bridgeId: 'B-1' },
      after: { bridgeId: 'B-1', nextDate: '2024-09-02', remarks: 'ok' },
      mapping: mapping!.hash,
    });
  });

  it('maps a delete that carries only the key', () => {
    const out = translate(change({ op: 'd', row: null }), route, ctx, 'now');
    expect(decode(out.message.payload)).toMatchObject({ op: 'd', key: { bridgeId: 'B-1' }, before: null, after: null });
  });

  it('sends an unmappable row to the dead-letter subject with the raw row and where it failed', () => {
    const out = translate(change({ row: { BRG_ID: 'B-1', NEXT_INSP_DT: '20240231', REMARKS: null } }), route, ctx, 'now');
    expect(out.deadLetter).toBe(true);
    expect(out.message.subject).toBe('hms.sync.fhwa.dlq.bridge_inspection');
    const body = decode(out.message.payload);
    expect(body.error).toMatch(/mappings\/fhwa\/INSPECTIONS\.yaml: field nextDate \(column NEXT_INSP_DT\): invalid date "20240231"/);
    expect(body.raw).toEqual({ BRG_ID: 'B-1', NEXT_INSP_DT: '20240231', REMARKS: null });
    expect(body.source).toMatchObject({ op: 'c', position: '0000000001000000-00000001' });
  });

  it('dead-letters an envelope too large for NATS, with the raw values shortened to fit', () => {
    const huge = 'x'.repeat(50_000);
    const out = translate(change({ row: { BRG_ID: 'B-1', NEXT_INSP_DT: '20240902', REMARKS: huge } }), route, { ...ctx, maxPayload: 20_000 }, 'now');
    expect(out.deadLetter).toBe(true);
    expect(out.message.payload.length).toBeLessThan(20_000);
    const body = decode(out.message.payload);
    expect(body.error).toMatch(/exceeds the NATS server's max_payload of 20000 bytes/);
    expect(body.raw.REMARKS).toMatch(/more characters not shown\]$/);
  });

  it('publishes a truncate on the reserved _truncate token', () => {
    const out = translate(change({ op: 't', row: null, keyRow: null }), route, ctx, 'now');
    expect(out.message.subject).toBe('hms.sync.fhwa.bridge_inspection._truncate');
    expect(decode(out.message.payload)).toMatchObject({ op: 't', key: null, after: null });
  });

  it('keeps the new image when the old one no longer maps', () => {
    const out = translate(change({ op: 'u', before: { BRG_ID: 'B-1', NEXT_INSP_DT: '0', REMARKS: 'x' } }), route, ctx, 'now');
    expect(out.deadLetter).toBe(false);
    expect(decode(out.message.payload)).toMatchObject({ op: 'u', before: null, after: { nextDate: '2024-09-02' } });
  });
});

describe('envelope bytes', () => {
  /** What the payload must be: JSON.stringify of the Envelope, keys in the contract's order. */
  function expectedJson(payload: Uint8Array): string {
    const e = decode(payload);
    const source = {
      name: e.source.name,
      kind: e.source.kind,
      table: e.source.table,
      capture: e.source.capture,
      position: e.source.position,
      commitTs: e.source.commitTs,
      ...(e.source.refetched ? { refetched: e.source.refetched } : {}),
    };
    return JSON.stringify({ id: e.id, op: e.op, entity: e.entity, key: e.key, before: e.before, after: e.after, source, mapping: e.mapping, ts: e.ts });
  }

  it('are JSON.stringify of the envelope, for every op, capture, source and value shape', () => {
    const quoted = parseMapping('q.yaml', `table: public.inspections\nentity: culvert\nkey: [BRG_ID]\nfields:\n  bridgeId: { from: BRG_ID, type: string }\n  remarks: { from: REMARKS }\n`).mapping as Mapping;
    const quotedRoute = tableRoute(quoted, ['BRG_ID']);
    const cases: Array<[RawChange, typeof route, TranslateContext]> = [
      [change({}), route, ctx],
      [change({ capture: 'snapshot', op: 'r', commitTs: null }), route, ctx],
      [change({ op: 'u', before: { BRG_ID: 'B-1', NEXT_INSP_DT: '20240101', REMARKS: 'was "ok"\n' } }), route, ctx],
      [change({ op: 'd', row: null }), route, ctx],
      [change({ op: 't', row: null, keyRow: undefined }), route, ctx],
      [change({ refetched: ['REMARKS'] }), route, ctx],
      [change({ row: { BRG_ID: 'Zürich ✓ 😀 \u0001', NEXT_INSP_DT: '20240902', REMARKS: '\\ "\u2028' } }), route, { ...ctx, sourceName: 'other', sourceKind: 'mysql' }],
      [change({}), route, { ...ctx, positionPrefix: '~0001-' }],
      [change({}), route, { ...ctx, sourceName: 'second' }],
      [change({ capture: 'poll' }), quotedRoute, ctx],
      [change({}), quotedRoute, { ...ctx, sourceName: 'second' }],
      [change({}), route, ctx],
    ];
    for (const [c, r, x] of cases) {
      const out = translate(c, r, x, '2026-11-21T14:00:00.010Z');
      expect(out.deadLetter).toBe(false);
      expect(Buffer.from(out.message.payload).toString('utf8')).toBe(expectedJson(out.message.payload));
    }
    const other = translate(cases[6]![0], route, cases[6]![2], 'now');
    expect(decode(other.message.payload).source).toMatchObject({ name: 'other', kind: 'mysql' });
    expect(decode(translate(change({ capture: 'poll' }), quotedRoute, ctx, 'now').message.payload)).toMatchObject({ entity: 'culvert', source: { capture: 'poll' } });
  });
});
