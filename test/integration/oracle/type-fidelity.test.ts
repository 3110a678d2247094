// Oracle types through the snapshot (TO_CHAR, exact NUMBER text) and through LogMiner
// (MINE_VALUE text, LOBs read back AS OF the commit SCN) give the same envelope values.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { streamProblems } from '../../support/stream.ts';
import { SKIPPED, docker, legacyOracle, under, waitForStream, writeOracleBridgeFiles } from './helpers.ts';

const MAPPING = `
table: LEGACY.TYPED
entity: typed
fields:
  id:     { from: ID, type: integer }
  amount: { from: AMOUNT, type: decimal }
  big:    { from: BIG, type: bigint }
  ratio:  { from: RATIO, type: string }
  day:    { from: DAY, type: timestamp }
  at:     { from: AT, type: timestamp }
  zoned:  { from: ZONED, type: timestamp }
  name:   { from: NAME, type: string }
  code:   { from: CODE, type: string }
  empty:  { from: EMPTY, type: string }
  body:   { from: BODY, type: string }
  raw:    { from: RAW_ID, type: bytes }
unmapped: error
`;

const INSERT =
  `INSERT INTO LEGACY.TYPED VALUES (:1, 12345678901234567890.1234567890, 9007199254740993, 0.1, ` +
  `TO_DATE('2024-03-10 02:30:00', 'YYYY-MM-DD HH24:MI:SS'), TO_TIMESTAMP('2024-03-10 06:59:59.123456', 'YYYY-MM-DD HH24:MI:SS.FF6'), ` +
  `TO_TIMESTAMP_TZ('2024-03-10 06:59:59.120 -05:00', 'YYYY-MM-DD HH24:MI:SS.FF TZH:TZM'), N'Grüße 日本', 'ab', '', :2, HEXTORAW('00FF10'))`;

const EXPECTED = {
  amount: '12345678901234567890.123456789',
  big: '9007199254740993',
  ratio: '0.1',
  day: '2024-03-10T02:30:00.000Z',
  at: '2024-03-10T06:59:59.123456Z',
  zoned: '2024-03-10T11:59:59.120Z',
  name: 'Grüße 日本',
  code: 'ab   ',
  empty: null,
  raw: Buffer.from([0, 255, 16]).toString('base64'),
};

describe.skipIf(!docker)(`type-fidelity (Oracle Free via testcontainers)${SKIPPED}`, () => {
  it('gives the same exact values from the snapshot and from LogMiner', async () => {
    await using db = await legacyOracle();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.createTable(
      'TYPED',
      `ID NUMBER(10) PRIMARY KEY, AMOUNT NUMBER(38,10), BIG NUMBER(19), RATIO BINARY_DOUBLE, DAY DATE, AT TIMESTAMP(6), ` +
        `ZONED TIMESTAMP(3) WITH TIME ZONE, NAME NVARCHAR2(40), CODE CHAR(5), EMPTY VARCHAR2(10), BODY CLOB, RAW_ID RAW(16)`,
    );
    const longText = 'x'.repeat(9000);
    await db.execute(INSERT, [1, longText]);
    const setup = writeOracleBridgeFiles(ws, { natsUrl, id: uniqueName('ora_types'), source: { name: 't', url: db.readerUrl }, mappings: { 'TYPED.yaml': MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 120_000);
    await db.execute(INSERT, [2, longText]);
    await db.execute(`UPDATE LEGACY.TYPED SET BODY = :1 WHERE ID = 2`, ['changed']);
    const entity = `${setup.prefix}.t.typed.`;
    const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'u'), 'the LOB update', 120_000);
    const envelopes = under(messages, entity).map((m) => m.body);
    const snapshot = envelopes.find((e) => e.op === 'r')!;
    const inserted = envelopes.find((e) => e.op === 'c')!;
    const updated = envelopes.find((e) => e.op === 'u')!;
    expect(snapshot.after).toEqual({ id: 1, ...EXPECTED, body: longText });
    expect(inserted.after).toEqual({ id: 2, ...EXPECTED, body: longText });
    expect(inserted.source.refetched).toEqual(['BODY']);
    expect(updated.after).toEqual({ id: 2, ...EXPECTED, body: 'changed' });
    expect(under(messages, `${setup.prefix}.t.dlq.`)).toEqual([]);
    expect(streamProblems(messages, entity)).toEqual([]);
  }, 600_000);
});
