// A DBA's first day with an account that may only SELECT, on PostgreSQL and on MariaDB:
// `capture: auto` cannot read the log, so it polls and says why. The legacy table of the log
// scenario (CHAR keys, yyyyMMdd integer dates, one-letter codes, a decimal amount, a large text
// column), 40 rows before the bridge starts, a few hundred inserts, updates and deletes in small
// and larger transactions, one SIGKILL of the bridge in the middle, one impossible date. Polling
// coalesces what changed between two passes, so versions are not consecutive here; what must
// hold is that the stream's latest envelope per key equals the table, mapped, deletes included,
// with unique ids, positions rising per key, and the bad row on the dead-letter subject.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { liveRows, readStream, streamProblems, type StoredMessage } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { legacyMariadb, mysqlSession } from '../mysql/helpers.ts';
import { expectedFirstDayRow, firstDayMapping, legacyCode, legacyDate, legacyNote, type FirstDayRow } from '../../support/first-day.ts';

const POLL = 'capture: auto\npoll: { interval: 250ms, debounce: 0ms }';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the scenario needs from a database: a session for transactions and a way to read the table. */
interface Legacy {
  begin(): Promise<void>;
  commit(): Promise<void>;
  insert(values: [string, number, string, string, string]): Promise<void>;
  /** Bumps VERSION and AMT of `n` random rows (never B-BAD) and sets CODE_STS. */
  updateRandom(n: number, status: string): Promise<number>;
  deleteRandom(n: number): Promise<number>;
  /** Bumps VERSION and appends to NOTES of every row but B-BAD. */
  updateAll(): Promise<number>;
  insertBad(): Promise<void>;
  table(): Promise<FirstDayRow[]>;
}

async function firstDay(options: { url: string; kind: 'postgres' | 'mysql'; schema: string; legacy: Legacy; idPrefix: string }): Promise<void> {
  using ws = workspace();
  const natsUrl = inject('natsUrl');
  const { legacy } = options;
  const setup = writeBridgeFiles(ws, {
    natsUrl,
    id: uniqueName(options.idPrefix),
    source: { name: 'fhwa', kind: options.kind, url: options.url, extra: POLL },
    mappings: { 'LEGACY_INSPECTIONS.yaml': firstDayMapping(options.schema) },
  });
  const entity = `${setup.prefix}.fhwa.inspection.`;
  const dlqSubject = `${setup.prefix}.fhwa.dlq.inspection`;
  let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
  const kills: string[] = [];
  try {
    await bridge.waitForOutput(/capture method poll \(log capture is not possible: [^\n]+\)/, 'the fallback to polling, with the reason');
    await waitFor(async () => (await readStream(natsUrl, setup.stream, `${entity}>`)).length >= 40, { what: 'the 40 rows read first', timeoutMs: 30_000 });

    let nextId = 41;
    let changes = 0;
    for (let round = 0; round < 12; round++) {
      // Small transactions: 7 inserts, 2 updates and a delete each.
      for (let t = 0; t < 3; t++) {
        await legacy.begin();
        for (let k = 0; k < 7; k++) {
          const i = nextId++;
          await legacy.insert([`B-${i}`, legacyDate(i), legacyCode(i), (i * 3.1).toFixed(2), legacyNote(i)]);
        }
        changes += 7;
        changes += await legacy.updateRandom(2, legacyCode(round + t));
        changes += await legacy.deleteRandom(1);
        await legacy.commit();
        await sleep(30);
      }
      // Larger transactions touching every row.
      if (round === 3 || round === 8) {
        await legacy.begin();
        changes += await legacy.updateAll();
        changes += await legacy.deleteRandom(5);
        await legacy.commit();
      }
      if (round === 5) {
        await legacy.insertBad();
        changes += 1;
      }
      if (round === 6) {
        // SIGKILL in the middle, while passes find changes, then start again.
        await sleep(100 + Math.floor(Math.random() * 200));
        await bridge.kill();
        kills.push(`round ${round}: killed with ${(await readStream(natsUrl, setup.stream)).length} messages in the stream`);
        bridge = startBridgeProcess(['run', '-c', setup.configPath]);
        await bridge.waitForOutput(/capture method poll \(log capture is not possible: /, 'the restarted bridge to poll');
      }
    }
    expect(changes).toBeGreaterThan(300);
    expect(kills).toHaveLength(1);

    const expected = new Map<string, unknown>();
    for (const row of await legacy.table()) if (row.BRG_ID.trim() !== 'B-BAD') expected.set(entity + row.BRG_ID.trim(), expectedFirstDayRow(row));

    let difference = '';
    const messages: StoredMessage[] = await waitFor(
      async () => {
        const all = await readStream(natsUrl, setup.stream);
        const live = liveRows(all, entity);
        const wrong = [...expected].filter(([subject, row]) => JSON.stringify(live.get(subject)) !== JSON.stringify(row));
        const extra = [...live.keys()].filter((subject) => !expected.has(subject));
        const bad = all.some((m) => m.subject === dlqSubject);
        difference = `${wrong.length} rows differ, ${extra.length} extra, bad row on DLQ: ${bad}; e.g. ${JSON.stringify(wrong.slice(0, 1).map(([s, r]) => [s, r, live.get(s)])).slice(0, 600)} extra ${extra.slice(0, 3)}`;
        return wrong.length === 0 && extra.length === 0 && bad ? all : false;
      },
      { what: 'the stream to equal the table', timeoutMs: 30_000, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${difference}\nkills: ${kills.join('; ')}\n--- bridge ---\n${bridge.output().slice(-3000)}`);
    });

    expect(streamProblems(messages, entity)).toEqual([]);
    expect(new Map([...liveRows(messages, entity)].sort())).toEqual(new Map([...expected].sort()));
    const own = messages.filter((m) => m.subject.startsWith(entity));
    // Every envelope came from polling: first reads as r, then c, u and d.
    expect(new Set(own.map((m) => m.body.source.capture))).toEqual(new Set(['poll']));
    expect(new Set(own.map((m) => m.body.op))).toEqual(new Set(['r', 'c', 'u', 'd']));
    expect(own.filter((m) => m.body.op === 'r').length).toBeGreaterThanOrEqual(40);
    // Deleted keys end on a d envelope.
    const deleted = new Set(own.filter((m) => m.body.op === 'd').map((m) => m.subject));
    expect(deleted.size).toBeGreaterThan(0);
    for (const subject of deleted) if (!expected.has(subject)) expect(own.filter((m) => m.subject === subject).at(-1)!.body.op).toBe('d');

    const dlq = messages.filter((m) => m.subject === dlqSubject);
    expect(dlq, JSON.stringify(dlq.map((m) => m.body)).slice(0, 2000)).toHaveLength(1);
    expect(dlq[0]!.body.error).toMatch(/LEGACY_INSPECTIONS\.yaml.*nextDate.*20240231/);
    expect(dlq[0]!.body.raw.BRG_ID.trim()).toBe('B-BAD');
    expect(dlq[0]!.body.raw).toMatchObject({ NEXT_INSP_DT: '20240231', CODE_STS: 'A', AMT: '1.00' });
    expect(dlq[0]!.body.source.capture).toBe('poll');
    expect(dlq[0]!.msgId).toMatch(/^[0-9a-f]{32}$/);
    expect(await bridge.stop()).toBe(0);
  } finally {
    await bridge.kill();
  }
}

describe('first day of a DBA with a SELECT-only account (capture: auto)', () => {
  it('PostgreSQL: polls, and the stream ends equal to the table, deletes included', async () => {
    await using db = await freshDatabase('autoday');
    await db.query(`CREATE TABLE "LEGACY_INSPECTIONS" (
      "BRG_ID" char(12) PRIMARY KEY, "NEXT_INSP_DT" integer, "CODE_STS" char(1),
      "AMT" numeric(12,2), "NOTES" text, "VERSION" integer NOT NULL)`);
    await db.query(`INSERT INTO "LEGACY_INSPECTIONS" SELECT 'B-' || g, 20240101 + (g % 28), 'A', g * 1.25, 'seed ' || g, 1 FROM generate_series(1, 40) g`);
    const role = await db.createRole('selectonly');
    await db.query(`GRANT SELECT ON "LEGACY_INSPECTIONS" TO "${role.name}"`);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await firstDay({
        url: role.url,
        kind: 'postgres',
        schema: 'public',
        idPrefix: 'pg_autoday',
        legacy: {
          begin: async () => void (await client.query('BEGIN')),
          commit: async () => void (await client.query('COMMIT')),
          insert: async (v) => void (await client.query(`INSERT INTO "LEGACY_INSPECTIONS" VALUES ($1, $2, $3, $4, $5, 1)`, v)),
          updateRandom: async (n, status) =>
            (await client.query(
              `UPDATE "LEGACY_INSPECTIONS" SET "VERSION" = "VERSION" + 1, "AMT" = "AMT" + 1, "CODE_STS" = $1
                 WHERE "BRG_ID" IN (SELECT "BRG_ID" FROM "LEGACY_INSPECTIONS" WHERE "BRG_ID" <> 'B-BAD' ORDER BY random() LIMIT ${n})`,
              [status],
            )).rowCount ?? 0,
          deleteRandom: async (n) =>
            (await client.query(`DELETE FROM "LEGACY_INSPECTIONS" WHERE "BRG_ID" IN (SELECT "BRG_ID" FROM "LEGACY_INSPECTIONS" WHERE "BRG_ID" <> 'B-BAD' ORDER BY random() LIMIT ${n})`)).rowCount ?? 0,
          updateAll: async () =>
            (await client.query(`UPDATE "LEGACY_INSPECTIONS" SET "VERSION" = "VERSION" + 1, "NOTES" = "NOTES" || '.' WHERE "BRG_ID" <> 'B-BAD'`)).rowCount ?? 0,
          insertBad: async () => void (await client.query(`INSERT INTO "LEGACY_INSPECTIONS" VALUES ('B-BAD', 20240231, 'A', 1.00, 'impossible date', 1)`)),
          table: async () => (await client.query<FirstDayRow>(`SELECT * FROM "LEGACY_INSPECTIONS" ORDER BY "BRG_ID"`)).rows,
        },
      });
    } finally {
      await client.end();
    }
  }, 60_000);

  it('MariaDB: polls, and the stream ends equal to the table, deletes included', async () => {
    await using db = await legacyMariadb();
    await db.query(`CREATE TABLE LEGACY_INSPECTIONS (
      BRG_ID char(12) PRIMARY KEY, NEXT_INSP_DT int, CODE_STS char(1),
      AMT decimal(12,2), NOTES mediumtext, VERSION int NOT NULL)`);
    await db.query(`INSERT INTO LEGACY_INSPECTIONS SELECT CONCAT('B-', seq), 20240101 + (seq % 28), 'A', seq * 1.25, CONCAT('seed ', seq), 1 FROM seq_1_to_40`);
    // Not the helper's reader (it has the replication privileges): SELECT on the database only.
    const user = `selectonly_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await db.server.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
    await db.server.query(`GRANT SELECT ON \`${db.database}\`.* TO ?@'%'`, [user]);
    await using session = await mysqlSession(db.rootUrl);
    const randomIds = async (n: number): Promise<string[]> =>
      (await session.query<Array<{ BRG_ID: string }>>(`SELECT BRG_ID FROM LEGACY_INSPECTIONS WHERE BRG_ID <> 'B-BAD' ORDER BY RAND() LIMIT ${n}`)).map((r) => r.BRG_ID);
    await firstDay({
      url: db.server.url(user, password, db.database),
      kind: 'mysql',
      schema: db.database,
      idPrefix: 'my_autoday',
      legacy: {
        begin: async () => void (await session.query('BEGIN')),
        commit: async () => void (await session.query('COMMIT')),
        insert: async (v) => void (await session.query(`INSERT INTO LEGACY_INSPECTIONS VALUES (?, ?, ?, ?, ?, 1)`, v)),
        updateRandom: async (n, status) =>
          (await session.query<{ affectedRows: number }>(`UPDATE LEGACY_INSPECTIONS SET VERSION = VERSION + 1, AMT = AMT + 1, CODE_STS = ? WHERE BRG_ID IN (?)`, [status, await randomIds(n)])).affectedRows,
        deleteRandom: async (n) => (await session.query<{ affectedRows: number }>(`DELETE FROM LEGACY_INSPECTIONS WHERE BRG_ID IN (?)`, [await randomIds(n)])).affectedRows,
        updateAll: async () =>
          (await session.query<{ affectedRows: number }>(`UPDATE LEGACY_INSPECTIONS SET VERSION = VERSION + 1, NOTES = CONCAT(NOTES, '.') WHERE BRG_ID <> 'B-BAD'`)).affectedRows,
        insertBad: async () => void (await session.query(`INSERT INTO LEGACY_INSPECTIONS VALUES ('B-BAD', 20240231, 'A', 1.00, 'impossible date', 1)`)),
        table: async () => db.query<FirstDayRow[]>(`SELECT * FROM LEGACY_INSPECTIONS ORDER BY BRG_ID`),
      },
    });
  }, 60_000);
});
