// Every MariaDB type keeps its exact value, and the snapshot (r), an insert (c) and an update (u)
// of the same row give identical `after` objects: DECIMAL beyond a double, DATETIME as wall time
// in the source's `timezone:` (the bridge runs with TZ=America/New_York to prove the machine
// zone never enters), TIMESTAMP as the instant it is, unsigned BIGINT, BIT, YEAR, ENUM/SET,
// JSON, BLOB/BINARY (zero padding kept), latin1, utf8mb4 and utf16 text, and NULL in every column.
// Zero dates become their text: `nullIf` makes them null, otherwise the row is dead-lettered.
// Run with the binlog's column metadata FULL (names, charsets, labels from the log) and NO_LOG
// (all from information_schema).
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { streamProblems } from '../../support/stream.ts';
import { legacyMariadb, mysqlSession, under, waitForStream } from './helpers.ts';

const MAPPING = `
table: legacy.fidelity
entity: fidelity
fields:
  id:       { from: id, type: integer }
  amount:   { from: amount, type: decimal }
  wall:     { from: wall, type: timestamp }
  happened: { from: happened, type: timestamp }
  day:      { from: day, type: date, nullIf: ["0000-00-00"] }
  tm:       { from: tm, type: string }
  yr:       { from: yr, type: integer }
  flag:     { from: flag, type: boolean }
  bits:     { from: bits, type: bigint }
  bit1:     { from: bit1, type: boolean }
  ubig:     { from: ubig, type: bigint }
  sbig:     { from: sbig, type: bigint }
  umed:     { from: umed, type: integer }
  fl:       { from: fl, type: string }
  dbl:      { from: dbl, type: string }
  e:        { from: e, type: string }
  s:        { from: s, type: string }
  doc:      { from: doc, type: json }
  blb:      { from: blb, type: bytes }
  bin:      { from: bin, type: bytes }
  vb:       { from: vb, type: bytes }
  label:    { from: label, type: string }
  l1:       { from: l1, type: string }
  ch:       { from: ch, type: string }
  u16:      { from: u16, type: string }
unmapped: error
`;

const COLUMNS = ['amount', 'wall', 'happened', 'day', 'tm', 'yr', 'flag', 'bits', 'bit1', 'ubig', 'sbig', 'umed', 'fl', 'dbl', 'e', 's', 'doc', 'blb', 'bin', 'vb', 'label', 'l1', 'ch', 'u16'];
const FIELDS = ['id', ...COLUMNS];

const COMBINING = 'e\u0301';
interface Sample {
  params: unknown[];
  after: Record<string, unknown>;
}
const SAMPLES: Sample[] = [
  {
    params: [
      '12345678901234567890.1234567890', '2024-07-01 12:00:00.123456', '2024-03-10 06:59:59.123456', '2024-02-29', '-838:59:59.000', 2024,
      1, 682, 1, '18446744073709551615', '-9223372036854775808', 16777215, 1.1, 0.1, 'c d', 'x,z',
      '{"a":{"b":[1,2.5,{"c":"\u00fc \u{1F600}"}]},"n":null}', Buffer.from('00ff10ab00ff', 'hex'), Buffer.from('01', 'hex'), Buffer.from('ff00', 'hex'),
      // A leading U+FEFF (text exported by a Windows tool) is part of the value.
      `\ufeffcaf${COMBINING} \u{1F600} \u6f22\u5b57`, 'caf\u00e9', 'ab',
      // The same in a UTF-16 column (its own decoder in the binlog; converted by the server in a query).
      `\ufeffcaf${COMBINING} \u{1F600}`,
    ],
    after: {
      amount: '12345678901234567890.1234567890',
      // DATETIME is wall time in the source's zone (America/Chicago, CDT = UTC-5).
      wall: '2024-07-01T17:00:00.123456Z',
      // TIMESTAMP is an instant: the zone does not apply.
      happened: '2024-03-10T06:59:59.123456Z',
      day: '2024-02-29',
      tm: '-838:59:59.000',
      yr: 2024,
      flag: true,
      bits: '682',
      bit1: true,
      ubig: '18446744073709551615',
      sbig: '-9223372036854775808',
      umed: 16777215,
      fl: '1.1',
      dbl: '0.1',
      e: 'c d',
      s: 'x,z',
      doc: { a: { b: [1, 2.5, { c: '\u00fc \u{1F600}' }] }, n: null },
      blb: 'AP8QqwD/',
      bin: 'AQAAAA==',
      vb: '/wA=',
      label: `\ufeffcaf${COMBINING} \u{1F600} \u6f22\u5b57`,
      l1: 'caf\u00e9',
      ch: 'ab',
      u16: `\ufeffcaf${COMBINING} \u{1F600}`,
    },
  },
  {
    params: [
      '-0.0000000001', '2024-01-15 08:00:00', '1999-12-31 23:59:59.999999', '0000-00-00', '12:34:56.789', 0,
      0, 0, 0, '0', '9223372036854775807', 0, 123456.7, 1e300, 'a', '',
      '[]', Buffer.alloc(0), Buffer.alloc(4), Buffer.alloc(0), '', '\u00ff\u20ac', '', '',
    ],
    after: {
      amount: '-0.0000000001',
      wall: '2024-01-15T14:00:00.000Z',
      happened: '1999-12-31T23:59:59.999999Z',
      day: null,
      tm: '12:34:56.789',
      yr: 0,
      flag: false,
      bits: '0',
      bit1: false,
      ubig: '0',
      sbig: '9223372036854775807',
      umed: 0,
      fl: '123456.7',
      dbl: '1e300',
      e: 'a',
      s: '',
      doc: [],
      blb: '',
      bin: 'AAAAAA==',
      vb: '',
      label: '',
      l1: '\u00ff\u20ac',
      ch: '',
      u16: '',
    },
  },
  { params: COLUMNS.map(() => null), after: Object.fromEntries(COLUMNS.map((c) => [c, null])) },
];

const INSERT = `INSERT INTO fidelity (id, ${COLUMNS.join(', ')}) VALUES (${FIELDS.map(() => '?').join(', ')})`;

for (const metadata of ['FULL', 'NO_LOG']) {
  describe(`type-fidelity (MariaDB, binlog_row_metadata=${metadata})`, () => {
    it('maps every type exactly, identically from the snapshot, inserts and updates; zero dates follow the mapping', async () => {
      await using db = await legacyMariadb({ 'binlog-row-metadata': metadata });
      using ws = workspace();
      const natsUrl = inject('natsUrl');
      await using session = await mysqlSession(db.rootUrl);
      await session.query(`SET time_zone = '+00:00'`);
      await session.query(`
        CREATE TABLE fidelity (
          id int PRIMARY KEY,
          amount decimal(38,10), wall datetime(6), happened timestamp(6) NULL, day date, tm time(3), yr year,
          flag tinyint(1), bits bit(10), bit1 bit(1), ubig bigint unsigned, sbig bigint, umed mediumint unsigned,
          fl float, dbl double, e enum('a','b','c d'), s set('x','y','z'), doc json,
          blb blob, bin binary(4), vb varbinary(10),
          label varchar(100), l1 varchar(20) CHARACTER SET latin1, ch char(5), u16 varchar(20) CHARACTER SET utf16
        )`);
      for (const [i, sample] of SAMPLES.entries()) await session.query(INSERT, [i + 1, ...sample.params]);
      // A zero DATETIME and a zero TIMESTAMP: no mapping of them to a timestamp exists.
      const ZERO = `INSERT INTO fidelity (id, wall, happened) VALUES (?, '0000-00-00 00:00:00', '0000-00-00 00:00:00')`;
      await session.query(ZERO, [9]);

      const setup = writeBridgeFiles(ws, {
        natsUrl,
        id: uniqueName(`my_fid_${metadata}`),
        source: { name: 'legacy', kind: 'mysql', url: db.readerUrl, extra: 'timezone: America/Chicago' },
        mappings: { 'FIDELITY.yaml': MAPPING },
      });
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath], { TZ: 'America/New_York' });
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

      for (const [i, sample] of SAMPLES.entries()) await session.query(INSERT, [i + 11, ...sample.params]);
      // Rows 21..23 start from a base that differs from every sample, then become the samples.
      const base = ['7', ...SAMPLES[1]!.params.slice(1)];
      for (const [i] of SAMPLES.entries()) await session.query(INSERT, [i + 21, ...base]);
      await session.query(
        `UPDATE fidelity t JOIN fidelity s ON s.id = t.id - 20 SET ${COLUMNS.map((c) => `t.${c} = s.${c}`).join(', ')} WHERE t.id BETWEEN 21 AND 23`,
      );
      await session.query(ZERO, [19]);

      const entity = `${setup.prefix}.legacy.fidelity.`;
      const dlq = `${setup.prefix}.legacy.dlq.fidelity`;
      const total = SAMPLES.length * 4;
      const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).length >= total && under(all, dlq).length >= 2, `${total} envelopes and 2 dead letters`);
      const envelopes = under(messages, entity);
      expect(envelopes).toHaveLength(total);
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
        for (const [what, body] of [['snapshot', snapshot], ['insert', inserted], ['update', updated]] as const) {
          expect(Object.keys(body.after), `${what} ${i}`).toEqual(FIELDS);
          const { id: _id, ...after } = body.after;
          expect(after, `sample ${i} from the ${what}`).toStrictEqual(sample.after);
        }
      }
      // The update carries the full old row (the base).
      expect(byId('u', 21).before).toMatchObject({ amount: '7.0000000000', fl: '123456.7', bin: 'AAAAAA==' });

      const letters = under(messages, dlq);
      expect(letters).toHaveLength(2);
      expect(letters.map((m) => m.body.source.capture).sort()).toEqual(['log', 'snapshot']);
      for (const letter of letters) {
        expect(letter.body.error).toMatch(/FIDELITY\.yaml: field wall \(column wall\): invalid timestamp "0000-00-00 00:00:00\.000000"/);
        expect(letter.body.raw).toMatchObject({ id: expect.stringMatching(/^(9|19)$/), wall: '0000-00-00 00:00:00.000000', happened: '0000-00-00 00:00:00.000000' });
      }
      expect(bridge.output()).not.toMatch(/"level":(50|60)/);
      expect(await bridge.stop()).toBe(0);
    });
  });
}
