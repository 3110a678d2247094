// `capture: auto` asks the server whether log capture is possible at the start of every
// attempt. A server that goes away in the middle of those checks (a restart under load) has
// not answered: the attempt must fail and be retried, not take the missing answer for "log
// capture is not possible" and move the source to polling (a full re-read of every table in a
// new position epoch, and back to log capture at the next check). Each server is checked
// through a proxy that cuts the connection at its 1st, 2nd, ... statement, until the checks
// run through uncut.
import { describe, expect, it } from 'vitest';
import { diagnoseMysql } from '../../../capture/mysql/doctor.ts';
import { diagnosePostgres } from '../../../capture/postgres/doctor.ts';
import type { DoctorReport } from '../../../capture/shared-doctor.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { HmsSyncError } from '../../../src/errors.ts';
import { loadMappingDir } from '../../../src/mapping/index.ts';
import { chooseCaptureMethod } from '../../../src/runtime/sources.ts';
import { workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, sharedNatsUrl, uniqueName } from '../../support/context.ts';
import { writeCountersConfig } from '../../support/counters-source.ts';
import { cuttingProxy, type CuttingProxy } from '../../support/cutting-proxy.ts';
import { createCounters } from '../../support/pg-load.ts';
import { legacyMariadb } from '../mysql/helpers.ts';

function throughProxy(url: string, proxy: CuttingProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

/**
 * Runs `check` cut at statement 1, 2, ... until a run is not cut. Every cut run must be an
 * interrupted report; returns how many were cut and the uncut report.
 */
async function sweep(proxy: CuttingProxy, check: () => Promise<DoctorReport>): Promise<{ cut: DoctorReport[]; whole: DoctorReport }> {
  const cut: DoctorReport[] = [];
  for (let n = 1; n <= 60; n++) {
    proxy.cutAt = n;
    const before = proxy.cuts;
    const report = await check();
    if (proxy.cuts === before) return { cut, whole: report };
    cut.push(report);
  }
  throw new Error('the checks were still cut at their 60th statement');
}

async function sourceConfig(configPath: string) {
  const config = await loadConfig(configPath);
  const source = config.sources[0]!;
  const { mappings, errors } = await loadMappingDir(source.mappings);
  expect(errors).toEqual([]);
  return { source, mappings };
}

describe('capture: auto, the server lost during its checks', () => {
  it('PostgreSQL: a cut at any statement is an interrupted report and a retried attempt, never a reason to poll', async () => {
    await using db = await freshDatabase('cutchecks');
    using ws = workspace();
    await createCounters(db.url, 5);
    const role = await db.createRole('repl', 'REPLICATION');
    await db.query(`GRANT SELECT ON counters TO "${role.name}"`);
    const target = new URL(role.url);
    await using proxy = await cuttingProxy({ host: target.hostname, port: Number(target.port) }, 'postgres');
    const setup = writeCountersConfig(ws, { id: uniqueName('cutchecks'), url: throughProxy(role.url, proxy), extra: 'capture: auto' });
    await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE counters`);
    const { source, mappings } = await sourceConfig(setup.configPath);

    const { cut, whole } = await sweep(proxy, () => diagnosePostgres({ url: source.url, publication: source.publication, slot: source.slot, mappings }));
    expect(whole).toMatchObject({ method: 'log', ok: true });
    expect(whole.interrupted).toBeUndefined();
    // The checks make several statements (settings, catalog, privileges, publication, slot).
    expect(cut.length).toBeGreaterThanOrEqual(5);
    for (const report of cut) {
      expect(report.method).toBe('none');
      expect(report.interrupted, report.lines.join('\n')).toBeInstanceOf(HmsSyncError);
      expect(report.interrupted!.code).toBe('SOURCE_UNREACHABLE');
      expect(report.interrupted!.message).toMatch(/^postgres 127\.0\.0\.1:\d+\//);
    }

    // What the bridge does with it: the attempt fails, naming the server, and is retried.
    proxy.cutAt = 3;
    const failure = await chooseCaptureMethod(source, mappings).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HmsSyncError);
    expect(failure).toMatchObject({ code: 'SOURCE_UNREACHABLE', retryable: true });
    expect((failure as Error).message).toMatch(/^postgres 127\.0\.0\.1:\d+\/\S+: .*\(while checking whether log capture is possible\)$/);
    proxy.cutAt = undefined;
    expect(await chooseCaptureMethod(source, mappings)).toMatchObject({ method: 'log', logPossible: true });
    // A real "no": without REPLICATION the same checks, uncut, still choose polling.
    await db.query(`ALTER ROLE "${role.name}" NOREPLICATION`);
    expect(await chooseCaptureMethod(source, mappings)).toMatchObject({ method: 'poll', logPossible: false });
  }, 60_000);

  it('MariaDB: a cut at any statement is an interrupted report and a retried attempt, never a reason to poll', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    await db.query('CREATE TABLE items (id int PRIMARY KEY, label varchar(40))');
    await using proxy = await cuttingProxy({ host: '127.0.0.1', port: db.server.port }, 'mysql');
    const setup = writeBridgeFiles(ws, {
      natsUrl: sharedNatsUrl(),
      id: uniqueName('cutchecks'),
      source: { name: 'src', kind: 'mysql', url: throughProxy(db.readerUrl, proxy), extra: 'capture: auto' },
      mappings: { 'items.yaml': 'table: legacy.items\nentity: item\nfields:\n  id: { from: id, type: integer }\n  label: { from: label, type: string }\n' },
    });
    const { source, mappings } = await sourceConfig(setup.configPath);

    const { cut, whole } = await sweep(proxy, () => diagnoseMysql({ url: source.url, mappings }));
    expect(whole).toMatchObject({ method: 'log', ok: true });
    expect(cut.length).toBeGreaterThanOrEqual(5);
    for (const report of cut) {
      expect(report.method).toBe('none');
      expect(report.interrupted, report.lines.join('\n')).toBeInstanceOf(HmsSyncError);
      expect(report.interrupted!.code).toBe('SOURCE_UNREACHABLE');
    }

    proxy.cutAt = 4;
    const failure = await chooseCaptureMethod(source, mappings).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SOURCE_UNREACHABLE', retryable: true });
    expect((failure as Error).message).toMatch(/\(while checking whether log capture is possible\)$/);
    proxy.cutAt = undefined;
    expect(await chooseCaptureMethod(source, mappings)).toMatchObject({ method: 'log', logPossible: true });
    await db.server.query(`REVOKE REPLICATION SLAVE, REPLICATION CLIENT ON *.* FROM ?@'%'`, [db.reader.user]);
    expect(await chooseCaptureMethod(source, mappings)).toMatchObject({ method: 'poll', logPossible: false });
  }, 90_000);
});
