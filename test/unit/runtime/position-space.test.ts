import { describe, expect, it } from 'vitest';
import { pollPosition } from '../../../capture/poll/position.ts';
import { pgPosition } from '../../../src/envelope/envelope.ts';
import { tableRoute, translate } from '../../../src/pipeline/translate.ts';
import { parseMapping } from '../../../src/mapping/index.ts';
import type { OffsetStore, RawChange } from '../../../src/ports.ts';
import {
  currentPositionSpace,
  epochPosition,
  epochPrefix,
  inferMethodRecord,
  loadMethodRecord,
  methodKey,
  nextEpoch,
  splitEpoch,
} from '../../../src/runtime/position-space.ts';

function memoryStore(initial: Record<string, unknown> = {}): OffsetStore & { data: Map<string, unknown> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    get: async <T>(key: string) => data.get(key) as T | undefined,
    put: async (key, value) => void data.set(key, JSON.parse(JSON.stringify(value))),
    delete: async (key) => void data.delete(key),
  };
}

describe('position epochs', () => {
  it('epoch 0 has no prefix; later epochs are ~ and four digits', () => {
    expect(epochPrefix(0)).toBe('');
    expect(epochPrefix(1)).toBe('~0001-');
    expect(epochPosition(12, '00000000016B6F28-00000001')).toBe('~0012-00000000016B6F28-00000001');
    expect(() => epochPrefix(10_000)).toThrow(RangeError);
    expect(() => epochPrefix(-1)).toThrow(RangeError);
  });

  it('every position of a later epoch sorts after every position of an earlier one, whatever the method', () => {
    const poll0 = pollPosition(9_999_999_999_999, 0xffffffff, 0xffffffff);
    const lsn0 = pgPosition('FFFFFFFF/FFFFFFFF', 0xffffffff);
    const mysql0 = '9999999999-9999999999-FFFFFFFF';
    const log1 = epochPosition(1, pgPosition('0/0', 0));
    const poll2 = epochPosition(2, pollPosition(0, 0, 0));
    const log3 = epochPosition(3, mysql0);
    for (const earlier of [poll0, lsn0, mysql0]) expect(log1 > earlier, `${log1} > ${earlier}`).toBe(true);
    expect(poll2 > log1).toBe(true);
    expect(log3 > poll2).toBe(true);
    // Within an epoch the method's own order holds.
    expect(epochPosition(1, pgPosition('0/16B6F28', 2)) > epochPosition(1, pgPosition('0/16B6F28', 1))).toBe(true);
    expect(epochPosition(9, 'a') < epochPosition(10, '0')).toBe(true);
  });

  it('splits a position into epoch and the method position', () => {
    expect(splitEpoch('~0003-1795326285509-0000002A-00000003')).toEqual({ epoch: 3, position: '1795326285509-0000002A-00000003' });
    expect(splitEpoch('00000000016B6F28-00000001')).toEqual({ epoch: 0, position: '00000000016B6F28-00000001' });
  });

  it('the translate step prefixes the position, and so the id, of envelopes and dead letters', () => {
    const { mapping } = parseMapping('/m/t.yaml', 'table: public.t\nentity: thing\nfields:\n  id: { from: id, type: integer }\n  d: { from: d, type: date, format: yyyyMMdd }\n');
    const route = tableRoute(mapping!, ['id']);
    const columns = new Map([
      ['id', { name: 'id', kind: 'integer' as const, nativeType: 'int4' }],
      ['d', { name: 'd', kind: 'text' as const, nativeType: 'text' }],
    ]);
    const change = (d: string): RawChange => ({
      op: 'c', table: 'public.t', position: '1795326285509-0000002A-00000003', commitTs: null, capture: 'poll',
      row: { id: '1', d }, before: null, keyRow: { id: '1' }, columns,
    });
    const ctx = { sourceName: 's', sourceKind: 'postgres', subjectPrefix: 'p' };
    const plain = translate(change('20240101'), route, ctx, 'now');
    const prefixed = translate(change('20240101'), route, { ...ctx, positionPrefix: '~0001-' }, 'now');
    const body = (t: typeof plain) => JSON.parse(Buffer.from(t.message.payload).toString());
    expect(body(plain).source.position).toBe('1795326285509-0000002A-00000003');
    expect(body(prefixed).source.position).toBe('~0001-1795326285509-0000002A-00000003');
    expect(prefixed.message.msgId).not.toBe(plain.message.msgId);
    expect(translate(change('20240101'), route, { ...ctx, positionPrefix: '' }, 'now').message.msgId).toBe(plain.message.msgId);
    const dead = translate(change('2024-99'), route, { ...ctx, positionPrefix: '~0002-' }, 'now');
    expect(dead.deadLetter).toBe(true);
    expect(body(dead).source.position).toBe('~0002-1795326285509-0000002A-00000003');
  });
});

describe('method record', () => {
  it('infers epoch 0 of the method whose state is in the bucket, else of the method chosen now', () => {
    expect(inferMethodRecord({ pollState: true, logState: false }, 'log')).toMatchObject({ method: 'poll', epoch: 0 });
    expect(inferMethodRecord({ pollState: false, logState: true }, 'poll')).toMatchObject({ method: 'log', epoch: 0 });
    expect(inferMethodRecord({ pollState: false, logState: false }, 'poll')).toMatchObject({ method: 'poll', epoch: 0 });
    expect(inferMethodRecord({ pollState: false, logState: false }, 'log')).toMatchObject({ method: 'log', epoch: 0 });
  });

  it('loads the record, or infers and writes it', async () => {
    const polled = memoryStore({ 'poll.src': { v: 1, pass: 3 } });
    expect(await loadMethodRecord(polled, 'src', 'log')).toMatchObject({ method: 'poll', epoch: 0 });
    expect(polled.data.get(methodKey('src'))).toMatchObject({ method: 'poll', epoch: 0 });

    const logged = memoryStore({ 'postgres.src': { slot: 'x' } });
    expect(await loadMethodRecord(logged, 'src', 'poll')).toMatchObject({ method: 'log', epoch: 0 });

    const kept = memoryStore({ [methodKey('src')]: { method: 'log', epoch: 4, since: 'then' }, 'poll.src': {} });
    expect(await loadMethodRecord(kept, 'src', 'poll')).toEqual({ method: 'log', epoch: 4, since: 'then' });
  });

  it('the next epoch counts up and names the method', () => {
    const next = nextEpoch({ method: 'poll', epoch: 0, since: 'x' }, 'log', 'granted');
    expect(next).toMatchObject({ method: 'log', epoch: 1, reason: 'granted' });
    expect(() => nextEpoch({ method: 'poll', epoch: 9999, since: 'x' }, 'log', 'r')).toThrow(RangeError);
  });

  it('readers see the position space without writing', async () => {
    const store = memoryStore({ 'poll.src': {} });
    expect(await currentPositionSpace((k) => store.get(k), 'src')).toEqual({ method: 'poll', epoch: 0, prefix: '' });
    expect(store.data.has(methodKey('src'))).toBe(false);
    await store.put(methodKey('src'), { method: 'log', epoch: 2, since: 'x' });
    expect(await currentPositionSpace((k) => store.get(k), 'src')).toEqual({ method: 'log', epoch: 2, prefix: '~0002-' });
    expect(await currentPositionSpace(async () => undefined, 'fresh')).toEqual({ method: 'log', epoch: 0, prefix: '' });
  });
});
