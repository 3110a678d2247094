// SQL Server types through the snapshot and through CDC give the same exact values: DECIMAL and
// MONEY never as JS numbers, DATETIME2(7) and DATETIMEOFFSET with all their digits, NVARCHAR,
// NCHAR, NVARCHAR(MAX) (read back when an update leaves it out), VARBINARY, and a UTF-8 collated
// VARCHAR whose value starts with U+FEFF (tedious alone would drop it: capture/mssql/values.ts).
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { streamProblems } from '../../support/stream.ts';
import { SKIPPED, docker, legacyMssql, under, waitForStream, writeMssqlBridgeFiles } from './helpers.ts';

const MAPPING = `
table: dbo.typed
entity: typed
fields:
  id:     { from: id, type: integer }
  amount: { from: amount, type: decimal }
  price:  { from: price, type: decimal }
  big:    { from: big, type: bigint }
  at:     { from: at, type: timestamp }
  zoned:  { from: zoned, type: timestamp }
  day:    { from: day, type: date }
  name:   { from: name, type: string }
  code:   { from: code, type: string }
  body:   { from: body, type: string }
  raw:    { from: raw, type: bytes }
  flag:   { from: flag, type: boolean }
  utf:    { from: utf, type: string }
unmapped: error
`;

const VALUES = (id: number) =>
  `(${id}, 12345678901234567890.1234567890, 922337203685477.5807, 9223372036854775807, '2024-03-10 02:30:00.1234567', ` +
  `'2024-03-10 06:59:59.1234567 -05:00', '2024-03-10', N'Grüße 日本 🚗', N'ab', REPLICATE(CAST(N'x' AS NVARCHAR(MAX)), 9000), 0x00FF10, 1, ` +
  `NCHAR(65279) + N'Grüße 日本')`;

const EXPECTED = {
  amount: '12345678901234567890.1234567890',
  price: '922337203685477.5807',
  big: '9223372036854775807',
  at: '2024-03-10T02:30:00.1234567Z',
  zoned: '2024-03-10T11:59:59.1234567Z',
  day: '2024-03-10',
  name: 'Grüße 日本 🚗',
  code: 'ab   ',
  raw: Buffer.from([0, 255, 16]).toString('base64'),
  flag: true,
  utf: '\uFEFFGrüße 日本',
};

describe.skipIf(!docker)(`type-fidelity (SQL Server via testcontainers)${SKIPPED}`, () => {
  it('gives the same exact values from the snapshot and from the change tables', async () => {
    await using db = await legacyMssql();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.createTable(
      'typed',
      'id int PRIMARY KEY, amount decimal(38,10), price money, big bigint, at datetime2(7), zoned datetimeoffset(7), day date, ' +
        'name nvarchar(40), code nchar(5), body nvarchar(max), raw varbinary(16), flag bit, utf varchar(40) COLLATE Latin1_General_100_CI_AS_SC_UTF8',
    );
    await db.query(`INSERT INTO dbo.typed VALUES ${VALUES(1)}`);
    const setup = writeMssqlBridgeFiles(ws, { natsUrl, id: uniqueName('ms_types'), source: { name: 't', url: db.readerUrl }, mappings: { 'TYPED.yaml': MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 120_000);
    await db.query(`INSERT INTO dbo.typed VALUES ${VALUES(2)}`);
    await db.query(`UPDATE dbo.typed SET amount = -0.0000000001 WHERE id = 2`);
    const entity = `${setup.prefix}.t.typed.`;
    const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'u'), 'the update', 120_000);
    const envelopes = under(messages, entity).map((m) => m.body);
    const body = 'x'.repeat(9000);
    expect(envelopes.find((e) => e.op === 'r' && e.key.id === 1)!.after).toEqual({ id: 1, ...EXPECTED, body });
    expect(envelopes.find((e) => e.op === 'c' && e.key.id === 2)!.after).toEqual({ id: 2, ...EXPECTED, body });
    const updated = envelopes.find((e) => e.op === 'u')!;
    expect(updated.after).toEqual({ id: 2, ...EXPECTED, amount: '-0.0000000001', body });
    expect(updated.source.refetched).toEqual(['body']);
    expect(under(messages, `${setup.prefix}.t.dlq.`)).toEqual([]);
    expect(streamProblems(messages, entity)).toEqual([]);
  }, 600_000);
});
