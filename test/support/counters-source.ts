// The single-source config most bridge tests run: source `src` over the counters table of
// pg-load.ts (COUNTER_MAPPING), and the variant for `capture: auto` with a restricted account.
import { writeBridgeFiles, type BridgeSetup, type Workspace } from './bridge.ts';
import { sharedNatsUrl, type FreshDatabase, type TestRole } from './context.ts';
import { COUNTER_MAPPING, createCounters } from './pg-load.ts';

export interface CountersSetup extends BridgeSetup {
  /** Subject prefix of the counter envelopes: `<prefix>.src.counter.` */
  entity: string;
}

/** hms-sync.yaml with source `src` at `url` and mappings/src/counters.yaml. */
export function writeCountersConfig(ws: Workspace, options: { id: string; url: string; extra?: string; top?: string }): CountersSetup {
  const setup = writeBridgeFiles(ws, {
    natsUrl: sharedNatsUrl(),
    id: options.id,
    source: { name: 'src', url: options.url, ...(options.extra === undefined ? {} : { extra: options.extra }) },
    mappings: { 'counters.yaml': COUNTER_MAPPING },
    ...(options.top === undefined ? {} : { top: options.top }),
  });
  return { ...setup, entity: `${setup.prefix}.src.counter.` };
}

export interface AutoCaptureCounters {
  /** The bridge's account: SELECT on counters, plus REPLICATION if asked for. */
  role: TestRole;
  setup: CountersSetup;
}

/**
 * `rows` counters and a `capture: auto` config whose account may only SELECT them. With
 * `replication`, the account also has REPLICATION and the publication exists: log capture is
 * possible from the start; without, the bridge polls until a DBA grants what doctor asks for.
 */
export async function autoCaptureCounters(
  db: FreshDatabase,
  ws: Workspace,
  options: { id: string; rows: number; replication: boolean; poll: string },
): Promise<AutoCaptureCounters> {
  await createCounters(db.url, options.rows);
  const role = options.replication ? await db.createRole('repl', 'REPLICATION') : await db.createRole('selectonly');
  await db.query(`GRANT SELECT ON counters TO "${role.name}"`);
  const setup = writeCountersConfig(ws, { id: options.id, url: role.url, extra: `capture: auto\npoll: ${options.poll}` });
  if (options.replication) await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE counters`);
  return { role, setup };
}
