// Every mapped type keeps its exact value: decimals beyond a double, instants in UTC from the
// column's own zone, zone-less timestamps as their wall time (the bridge runs with
// TZ=America/New_York to prove the machine zone never enters), bytes, JSON, multibyte text,
// bigints beyond 2^53, and NULL in every column. The snapshot (r), an insert (c) and an update
// (u) of identical rows must give identical `after` objects.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { streamProblems } from '../../support/stream.ts';
import { pgSession, under, waitForStream, without } from '../../support/pg-helpers.ts';

const MAPPING = `
table: public.fidelity
entity: fidelity
fields:
  id:       { from: id, type: integer }
  amount:   { from: amount, type: decimal }
  happened: { from: happened, type: timestamp }
  wall:     { from: wall, type: timestamp }
  day:      { from: day, type: date }
  blob:     { from: blob, type: bytes }
  doc:      { from: doc, type: json }
  docb:     { from: docb, type: json }
  label:    { from: label, type: string }
  flag:     { from: flag, type: boolean }
  big:      { from: big, type: bigint }
  n:        { from: n, type: integer }
unmapped: error
`;

const FIELDS = ['id', 'amount', 'happened', 'wall', 'day', 'blob', 'doc', 'docb', 'label', 'flag', 'big', 'n'];
const COLUMNS = FIELDS.slice(1);

interface Sample {
  /** Bind parameters for COLUMNS, in order. */
  params: unknown[];
  /** The envelope's `after` without `id`. */
  after: Record<string, unknown>;
}

const COMBINING = 'e\u0301'; // "é" as e + COMBINING ACUTE ACCENT: must not be normalized
const SAMPLES: Sample[] = [
  {
    params: [
      '12345678901234567890123456.0123456789',
      '2024-03-10 01:59:59.123456-05',
      '2024-07-01 12:00:00',
      '2024-02-29',
      Buffer.from('00ff10ab00ff', 'hex'),
      '{"a":{"b":[1,2.5,{"c":"\u00fc \u{1F600}"}]},"n":null}',
      '{"nested":{"k":["\u6f22\u5b57",true,-1.25e3]},"esc":"\\u00e9"}',
      `caf${COMBINING} \u{1F600} \u6f22\u5b57 \u{1F1FA}\u{1F1F8}`,
      true,
      '9007199254740993',
      2147483647,
    ],
    after: {
      amount: '12345678901234567890123456.0123456789',
      happened: '2024-03-10T06:59:59.123456Z',
      wall: '2024-07-01T12:00:00.000Z',
      day: '2024-02-29',
      blob: Buffer.from([0x00, 0xff, 0x10, 0xab, 0x00, 0xff]).toString('base64'),
      doc: { a: { b: [1, 2.5, { c: '\u00fc \u{1F600}' }] }, n: null },
      docb: { nested: { k: ['\u6f22\u5b57', true, -1250] }, esc: '\u00e9' },
      label: `caf${COMBINING} \u{1F600} \u6f22\u5b57 \u{1F1FA}\u{1F1F8}`,
      flag: true,
      big: '9007199254740993',
      n: 2147483647,
    },
  },
  {
    params: [
      '-0.0000000001',
      '1999-12-31 23:59:59.999999+14',
      // 02:30 does not exist in New York that night (DST starts): only a UTC reading keeps it.
      '2024-03-10 02:30:00',
      '1970-01-01',
      Buffer.alloc(0),
      '[]',
      '{}',
      '',
      false,
      '-9223372036854775808',
      -2147483648,
    ],
    after: {
      amount: '-0.0000000001',
      happened: '1999-12-31T09:59:59.999999Z',
      wall: '2024-03-10T02:30:00.000Z',
      day: '1970-01-01',
      blob: '',
      doc: [],
      docb: {},
      label: '',
      flag: false,
      big: '-9223372036854775808',
      n: -2147483648,
    },
  },
  {
    params: [
      '0',
      '2024-11-03 01:30:00-04',
      // 01:30 happens twice in New York that night (DST ends).
      '2024-11-03 01:30:00.5',
      '2024-12-31',
      Buffer.from([0xff]),
      '"just a string"',
      '[1, "two", {"three": 3}]',
      // Text that starts with a byte order mark (a file exported by a Windows tool): the mark
      // is part of the value and must not be dropped as a decoder's BOM.
      '\ufeff\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \ud55c\uad6d\uc5b4 x\u200dy',
      true,
      '9223372036854775807',
      0,
    ],
    after: {
      // numeric(38,10) stores the scale: zero is exactly 0.0000000000.
      amount: '0.0000000000',
      happened: '2024-11-03T05:30:00.000Z',
      wall: '2024-11-03T01:30:00.500Z',
      day: '2024-12-31',
      blob: '/w==',
      doc: 'just a string',
      docb: [1, 'two', { three: 3 }],
      label: '\ufeff\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \ud55c\uad6d\uc5b4 x\u200dy',
      flag: true,
      big: '9223372036854775807',
      n: 0,
    },
  },
  {
    params: COLUMNS.map(() => null),
    after: Object.fromEntries(COLUMNS.map((c) => [c, null])),
  },
];

const INSERT = `INSERT INTO fidelity (id, ${COLUMNS.join(', ')}) VALUES (${FIELDS.map((_, i) => `$${i + 1}`).join(', ')})`;

describe('type-fidelity', () => {
  it('maps every type exactly, with NULLs kept, identically from the snapshot, inserts and updates', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using session = await pgSession(db.url);
    await session.query(`
      CREATE TABLE fidelity (
        id integer PRIMARY KEY,
        amount numeric(38,10),
        happened timestamptz,
        wall timestamp without time zone,
        day date,
        blob bytea,
        doc json,
        docb jsonb,
        label text,
        flag boolean,
        big bigint,
        n integer
      )`);
    // Snapshot rows: ids 1..4.
    for (const [i, sample] of SAMPLES.entries()) await session.query(INSERT, [i + 1, ...sample.params]);

    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('fidelity'),
      source: { name: 'legacy', url: db.url },
      mappings: { 'FIDELITY.yaml': MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath], { TZ: 'America/New_York' });
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

    // Streamed inserts: ids 11..14, the same values.
    for (const [i, sample] of SAMPLES.entries()) await session.query(INSERT, [i + 11, ...sample.params]);
    // Streamed updates: ids 21..24 start as a copy of sample 1 (0-based) and are updated to each sample.
    for (const [i] of SAMPLES.entries()) await session.query(INSERT, [i + 21, ...SAMPLES[1]!.params]);
    await session.query(
      `UPDATE fidelity t SET (${COLUMNS.join(', ')}) = (SELECT ${COLUMNS.map((c) => `s.${c}`).join(', ')} FROM fidelity s WHERE s.id = t.id - 20)
        WHERE t.id BETWEEN 21 AND 24`,
    );

    const entity = `${setup.prefix}.legacy.fidelity.`;
    const total = SAMPLES.length * 4; // r, c, c (copies), u
    const messages = await waitForStream(
      inject('natsUrl'),
      setup.stream,
      (all) => under(all, entity).length >= total,
      `${total} envelopes`,
    );
    const envelopes = under(messages, entity);
    expect(envelopes).toHaveLength(total);
    expect(under(messages, `${setup.prefix}.legacy.dlq.`)).toEqual([]);
    expect(streamProblems(messages, entity)).toEqual([]);

    const byId = (op: string, id: number) => {
      const found = envelopes.filter((m) => m.body.op === op && m.body.key.id === id);
      expect(found, `${op} envelope for id ${id}`).toHaveLength(1);
      return found[0]!.body;
    };
    for (const [i, sample] of SAMPLES.entries()) {
      const snapshot = byId('r', i + 1);
      const inserted = byId('c', i + 11);
      const updated = byId('u', i + 21);
      expect(snapshot.source.capture).toBe('snapshot');
      expect(inserted.source.capture).toBe('log');
      expect(updated.source.capture).toBe('log');
      // Exact values, fields in the mapping's order, and no extra field.
      expect(Object.keys(snapshot.after)).toEqual(FIELDS);
      expect(without(snapshot.after, 'id'), `sample ${i} from the snapshot`).toStrictEqual(sample.after);
      expect(without(inserted.after, 'id'), `sample ${i} from an insert`).toStrictEqual(sample.after);
      expect(without(updated.after, 'id'), `sample ${i} from an update`).toStrictEqual(sample.after);
      expect(Object.keys(inserted.after)).toEqual(FIELDS);
      expect(Object.keys(updated.after)).toEqual(FIELDS);
    }
    // NULL stays null: present as a key with a null value, in every type.
    const nulls = byId('c', 14).after;
    for (const column of COLUMNS) expect(nulls, column).toHaveProperty(column, null);

    expect(await bridge.stop()).toBe(0);
  });
});
