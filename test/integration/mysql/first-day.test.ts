// A DBA's first day on MariaDB, end to end, with the replication-only account: a legacy table
// with CHAR keys, yyyyMMdd integer dates, one-letter status codes, a DECIMAL amount and a large
// text column; 40 rows before the bridge starts; thousands of changes in small and large
// transactions; the bridge SIGKILLed while it publishes small transactions and again while it
// publishes a large one; an impossible date in one row. It ends with the stream's latest
// envelope per key equal to the table, mapped, with no duplicate and no missing change.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { legacyMariadb, mysqlSession, readWholeStream, streamCount } from './helpers.ts';
import { expectedFirstDayRow, firstDayMapping, legacyCode, legacyDate, legacyNote, type FirstDayRow } from '../../support/first-day.ts';


describe('first day of a DBA (MariaDB)', () => {
  it('ends with the stream equal to the table after kills, small and large transactions and a bad row', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query(`CREATE TABLE LEGACY_INSPECTIONS (
      BRG_ID char(12) PRIMARY KEY, NEXT_INSP_DT int, CODE_STS char(1),
      AMT decimal(12,2), NOTES mediumtext, VERSION int NOT NULL)`);
    await db.query(`INSERT INTO LEGACY_INSPECTIONS SELECT CONCAT('B-', seq), 20240101 + (seq % 28), 'A', seq * 1.25, CONCAT('seed ', seq), 1 FROM seq_1_to_40`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_firstday'),
      source: { name: 'fhwa', kind: 'mysql', url: db.readerUrl },
      mappings: { 'LEGACY_INSPECTIONS.yaml': firstDayMapping('legacy') },
    });
    const entity = `${setup.prefix}.fhwa.inspection.`;
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    const kills: string[] = [];
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      await using session = await mysqlSession(db.rootUrl);
      let nextId = 41;
      let changes = 0;
      const randomIds = async (n: number): Promise<string[]> =>
        (await session.query<Array<{ BRG_ID: string }>>(`SELECT BRG_ID FROM LEGACY_INSPECTIONS WHERE BRG_ID <> 'B-BAD' ORDER BY RAND() LIMIT ${n}`)).map((r) => r.BRG_ID);

      // SIGKILL while the bridge publishes a large transaction: once part of it is in the
      // stream, before all of it (and so before its commit could be confirmed).
      const killDuringLargeTransaction = async (size: number): Promise<void> => {
        const before = await streamCount(natsUrl, setup.stream);
        await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= before + 200, { what: 'part of the large transaction', timeoutMs: 60_000, intervalMs: 10 });
        await bridge.kill();
        const published = (await streamCount(natsUrl, setup.stream)) - before;
        kills.push(`large transaction: killed after ${published} of ${size}`);
        expect(published, 'killed before the whole large transaction was published').toBeLessThan(size);
        bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      };

      const generate = async (): Promise<void> => {
        for (let round = 0; round < 30; round++) {
          // Small transactions: 10 changes each, mixed inserts, updates and a delete.
          for (let t = 0; t < 10; t++) {
            await session.query('BEGIN');
            for (let k = 0; k < 7; k++) {
              const i = nextId++;
              await session.query(`INSERT INTO LEGACY_INSPECTIONS VALUES (?, ?, ?, ?, ?, 1)`, [`B-${i}`, legacyDate(i), legacyCode(i), (i * 3.1).toFixed(2), legacyNote(i, ' 😀')]);
            }
            await session.query(`UPDATE LEGACY_INSPECTIONS SET VERSION = VERSION + 1, AMT = AMT + 1, CODE_STS = ? WHERE BRG_ID IN (?)`, [legacyCode(round + t), await randomIds(2)]);
            await session.query(`DELETE FROM LEGACY_INSPECTIONS WHERE BRG_ID IN (?)`, [await randomIds(1)]);
            await session.query('COMMIT');
            changes += 10;
          }
          // Every tenth round a large transaction touching every row four times (updates only,
          // so the version counter proves no change went missing).
          if (round % 10 === 5) {
            await session.query('BEGIN');
            let size = 0;
            for (let pass = 0; pass < 4; pass++) {
              const result = await session.query<{ affectedRows: number }>(`UPDATE LEGACY_INSPECTIONS SET VERSION = VERSION + 1, NOTES = CONCAT(NOTES, '.') WHERE BRG_ID <> 'B-BAD'`);
              size += result.affectedRows;
            }
            await session.query('COMMIT');
            changes += size;
            if (round === 15) await killDuringLargeTransaction(size);
          }
          if (round === 12) {
            await session.query(`INSERT INTO LEGACY_INSPECTIONS VALUES ('B-BAD', 20240231, 'A', 1.00, 'impossible date', 1)`);
            changes += 1;
          }
        }
      };

      const generating = generate();
      // A SIGKILL while the bridge publishes small transactions.
      await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= 400, { what: '400 messages in the stream', timeoutMs: 60_000 });
      await bridge.kill();
      kills.push(`small transactions: killed at ${await streamCount(natsUrl, setup.stream)} messages`);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await generating;
      await bridge.waitForOutput(/streaming changes/, 'the restarted bridge to stream', 60_000);
      expect(changes).toBeGreaterThan(3000);
      expect(kills).toHaveLength(2);

      const table = await db.query<FirstDayRow[]>(`SELECT * FROM LEGACY_INSPECTIONS ORDER BY BRG_ID`);
      const expected = new Map<string, unknown>();
      for (const row of table) if (row.BRG_ID !== 'B-BAD') expected.set(entity + row.BRG_ID.trim(), expectedFirstDayRow(row));

      let difference = '';
      const messages = await waitFor(
        async () => {
          const all = await readWholeStream(natsUrl, setup.stream);
          const live = liveRows(all, entity);
          const wrong = [...expected].filter(([subject, row]) => JSON.stringify(live.get(subject)) !== JSON.stringify(row));
          const extra = [...live.keys()].filter((subject) => !expected.has(subject));
          difference = `${wrong.length} rows differ, ${extra.length} extra; e.g. ${JSON.stringify(wrong.slice(0, 1).map(([s, r]) => [s, r, live.get(s)])).slice(0, 600)}`;
          return wrong.length === 0 && extra.length === 0 ? all : false;
        },
        { what: 'the stream to equal the table', timeoutMs: 90_000, intervalMs: 1000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${difference}\nkills: ${kills.join('; ')}\n--- bridge ---\n${bridge.output().slice(-3000)}`);
      });
      expect(streamProblems(messages, entity)).toEqual([]);
      expect(new Map([...liveRows(messages, entity)].sort())).toEqual(new Map([...expected].sort()));

      // Not one change missing: for every key, the versions the stream carries are consecutive.
      const versions = new Map<string, number[]>();
      for (const m of messages) {
        if (!m.subject.startsWith(entity) || m.body.op === 'd') continue;
        const list = versions.get(m.subject) ?? [];
        list.push(m.body.after.version);
        versions.set(m.subject, list);
      }
      for (const [subject, list] of versions) {
        const gaps = list.filter((v, i) => i > 0 && v !== list[i - 1]! + 1);
        expect(gaps, `${subject} versions ${list.join(',')}; kills: ${kills.join('; ')}`).toEqual([]);
      }

      const dlqSubject = `${setup.prefix}.fhwa.dlq.inspection`;
      const dlq = messages.filter((m) => m.subject === dlqSubject);
      expect(dlq).toHaveLength(1);
      expect(dlq[0]!.body.error).toMatch(/LEGACY_INSPECTIONS\.yaml.*nextDate.*20240231/);
      // MySQL returns CHAR without its padding, in queries and in the binlog alike.
      expect(dlq[0]!.body.raw).toMatchObject({ BRG_ID: 'B-BAD', NEXT_INSP_DT: '20240231', CODE_STS: 'A', AMT: '1.00' });
      expect(dlq[0]!.msgId).toMatch(/^[0-9a-f]{32}$/);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 240_000);
});
