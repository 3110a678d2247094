// The bridge with credentials a DBA hands out for reading: it never crashes, says what is
// missing, names the server and the statements a DBA must run, and picks the fix up on its
// own. The job waits 60 s before retrying after a privilege or password error
// (src/pipeline/job.ts), so the two tests that wait for a recovery take a little over a
// minute; they run concurrently.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { freshDatabase, uniqueName, type FreshDatabase, type TestRole } from '../../support/context.ts';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { streamProblems } from '../../support/stream.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';
import { waitFor } from '../../support/wait.ts';

const MAPPING = `
table: public.docs
entity: doc
fields:
  id:      { from: id, type: integer }
  small:   { from: small, type: integer }
  payload: { from: payload, type: string }
`;

/** The privilege retry delay of src/pipeline/job.ts, plus time for the attempt itself. */
const RECOVERY_MS = 60_000 + 20_000;

async function docsTable(db: FreshDatabase): Promise<void> {
  await db.query(`CREATE TABLE docs (id integer PRIMARY KEY, small integer, payload text)`);
  await db.query(`ALTER TABLE docs ALTER COLUMN payload SET STORAGE EXTERNAL`);
}

/** A role that may log in and SELECT the table, and nothing else (not the owner). */
async function reader(db: FreshDatabase, attributes = ''): Promise<TestRole> {
  const role = await db.createRole('reader', attributes);
  await db.query(`GRANT SELECT ON docs TO ${role.name}`);
  return role;
}

/** The pino lines of the bridge's output. */
function logLines(bridge: BridgeProcess): Array<{ level: number; msg: string; [key: string]: unknown }> {
  return bridge
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line);
        return parsed && typeof parsed === 'object' && typeof parsed.msg === 'string' ? [parsed] : [];
      } catch {
        return [];
      }
    });
}

function server(db: FreshDatabase): string {
  return `postgres 127.0.0.1:${inject('pgPort')}/${db.name}`;
}

async function stillRunning(bridge: BridgeProcess): Promise<boolean> {
  const exited = await Promise.race([bridge.exited.then(() => true), new Promise<false>((resolve) => setImmediate(() => resolve(false)))]);
  return !exited;
}

describe.concurrent('read-only-credentials', () => {
  it(
    'without publication or REPLICATION: keeps retrying, names what a DBA must run, and continues once it is done',
    async () => {
      await using db = await freshDatabase();
      using ws = workspace();
      await docsTable(db);
      const role = await reader(db);
      const setup = writeBridgeFiles(ws, {
        natsUrl: inject('natsUrl'),
        id: uniqueName('ro'),
        // capture: log, so a missing privilege is retried and reported (auto would poll).
        source: { name: 'legacy', url: role.url, extra: 'capture: log' },
        mappings: { 'DOCS.yaml': MAPPING },
      });
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      const failure = await waitFor(() => logLines(bridge).find((l) => l.msg.includes('CREATE PUBLICATION')) ?? false, {
        what: 'the bridge to name the missing publication',
        timeoutMs: 30_000,
      });
      expect(failure.msg).toContain(server(db));
      expect(failure.msg).toContain(`CREATE PUBLICATION "${setup.publication}" FOR TABLE "public"."docs"`);
      // Every statement in one message: each attempt waits a minute.
      expect(failure.msg).toContain(`ALTER ROLE "${role.name}" REPLICATION;`);
      expect(failure).toMatchObject({ code: 'SOURCE_PRIVILEGE', retryInMs: 60_000 });
      expect(await stillRunning(bridge)).toBe(true);
      // Nothing was created on the legacy side.
      expect(await db.query(`SELECT 1 FROM pg_publication`)).toEqual([]);
      expect(await db.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [setup.slot])).toEqual([]);

      // doctor: non-zero, with every statement a DBA must run.
      const doctor = await runCli(['doctor', '-c', setup.configPath]);
      expect(doctor.code, doctor.stdout + doctor.stderr).not.toBe(0);
      expect(doctor.stdout).toContain(server(db));
      expect(doctor.stdout).toContain(`CREATE PUBLICATION "${setup.publication}" FOR TABLE "public"."docs";`);
      expect(doctor.stdout).toContain(`ALTER ROLE "${role.name}" REPLICATION;`);
      expect(doctor.stdout).not.toContain(role.password);

      // The DBA runs them; the bridge, untouched, picks it up on its next attempt.
      await db.query(`INSERT INTO docs VALUES (1, 1, 'before the grant')`);
      await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE "public"."docs"`);
      await db.query(`ALTER ROLE "${role.name}" REPLICATION`);
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream after the grant', RECOVERY_MS);
      await db.query(`INSERT INTO docs VALUES (2, 1, 'after the grant')`);
      const entity = `${setup.prefix}.legacy.doc.`;
      const messages = await waitForStream(inject('natsUrl'), setup.stream, (all) => under(all, entity).length >= 2, 'the snapshot row and the insert');
      expect(under(messages, entity).map((m) => `${m.body.op} ${m.body.after.payload}`)).toEqual(['r before the grant', 'c after the grant']);
      expect(streamProblems(messages, entity)).toEqual([]);
      const states = under(messages, `${setup.prefix}.legacy.status`).map((m) => m.body.state);
      expect(states).toEqual(['offline', 'online']);
      expect(bridge.output()).not.toContain(role.password);
      expect(await bridge.stop()).toBe(0);
    },
    RECOVERY_MS + 30_000,
  );

  it(
    'SELECT revoked while streaming: an error naming the table, no crash, and the change arrives once granted again',
    async () => {
      await using db = await freshDatabase();
      using ws = workspace();
      await docsTable(db);
      const role = await reader(db, 'REPLICATION');
      // A large value written before the bridge starts: its unchanged copy must be read back by key.
      const payload = randomBytes(15_000).toString('base64');
      await db.query(`INSERT INTO docs VALUES (1, 1, $1)`, [payload]);
      const setup = writeBridgeFiles(ws, {
        natsUrl: inject('natsUrl'),
        id: uniqueName('revoke'),
        // capture: log, so a missing privilege is retried and reported (auto would poll).
        source: { name: 'legacy', url: role.url, extra: 'capture: log' },
        mappings: { 'DOCS.yaml': MAPPING },
      });
      await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE "public"."docs"`);
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

      await db.query(`REVOKE SELECT ON docs FROM ${role.name}`);
      await db.query(`UPDATE docs SET small = 2 WHERE id = 1`);
      // The log line whose message says it (the text can first appear in another field of
      // another line, the driver's error carried along, before the attempt's failure is logged).
      const failure = await waitFor(() => logLines(bridge).find((l) => l.msg.includes('permission denied')) ?? false, {
        what: 'the bridge to report the missing privilege',
        timeoutMs: 30_000,
      });
      expect(failure.msg).toContain(server(db));
      expect(failure.msg).toContain('public.docs');
      expect(failure.msg).toContain('GRANT SELECT ON "public"."docs"');
      expect(failure).toMatchObject({ code: 'SOURCE_PRIVILEGE', level: 50 });
      expect(await stillRunning(bridge)).toBe(true);
      const nats = inject('natsUrl');
      const status = `${setup.prefix}.legacy.status`;
      const offline = await waitForStream(nats, setup.stream, (all) => under(all, status).some((m) => m.body.state === 'offline'), 'an offline status');
      expect(under(offline, status).at(-1)!.body.reason).toContain('docs');
      // The update was not published half-done (nor at all yet).
      const entity = `${setup.prefix}.legacy.doc.`;
      expect(under(offline, entity).map((m) => m.body.op)).toEqual(['r']);

      await db.query(`GRANT SELECT ON docs TO ${role.name}`);
      const messages = await waitForStream(
        nats,
        setup.stream,
        (all) => under(all, entity).some((m) => m.body.op === 'u'),
        'the update, after the grant',
        RECOVERY_MS,
      );
      const update = under(messages, entity).find((m) => m.body.op === 'u')!;
      expect(update.body.after.small).toBe(2);
      expect(update.body.after.payload === payload).toBe(true);
      expect(streamProblems(messages, entity)).toEqual([]);
      expect(await bridge.stop()).toBe(0);
    },
    RECOVERY_MS + 30_000,
  );

  it('a wrong password: one clear line naming the server, and the source keeps retrying', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await docsTable(db);
    const role = await reader(db, 'REPLICATION');
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('pw'),
      source: { name: 'legacy', url: db.urlFor(role.name, wrong) },
      mappings: { 'DOCS.yaml': MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/authentication failed/, 'the bridge to report the password');
    const status = `${setup.prefix}.legacy.status`;
    const messages = await waitForStream(inject('natsUrl'), setup.stream, (all) => under(all, status).length >= 1, 'an offline status');
    const failures = logLines(bridge).filter((l) => /authentication failed/.test(l.msg));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.msg).toContain(server(db));
    expect(failures[0]!.msg).toContain(role.name);
    expect(failures[0]!.msg.split('\n')).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'SOURCE_AUTH', retryInMs: 60_000 });
    expect(bridge.output()).not.toContain(wrong);
    expect(under(messages, status).map((m) => m.body)).toMatchObject([{ source: 'legacy', state: 'offline' }]);
    expect(under(messages, status)[0]!.body.reason).toContain('authentication failed');
    await waitFor(async () => stillRunning(bridge), { what: 'the bridge to be running', timeoutMs: 1_000 });
    expect(await bridge.stop()).toBe(0);
  });
});
