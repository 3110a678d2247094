import type { Logger } from '../../src/log.ts';
import { pgPosition } from '../../src/envelope/envelope.ts';
import type { Mapping } from '../../src/mapping/types.ts';
import type { ChangeBatch } from '../../src/ports.ts';
import { loadTables, resolveKeyColumns } from './catalog.ts';
import { connectClient, describeServer } from './connection.ts';
import { snapshotTable } from './snapshot.ts';

/**
 * `hms-sync snapshot`: the current rows of some tables as `r` changes, for a consumer to
 * rebuild from. The position is the WAL insert position read *before* the snapshot is
 * taken: every commit the snapshot sees is at or before it... or after it but then also
 * streamed with a higher position and the same content; every commit it does not see is
 * streamed with a higher position. So a consumer that applies only newer positions never
 * lets these rows overwrite a later change.
 */
export async function* readCurrentRows(options: {
  url: string;
  mappings: Mapping[];
  chunkSize: number;
  log: Logger;
  signal: AbortSignal;
  onTables?: (keyColumns: Map<string, string[]>) => void;
}): AsyncGenerator<ChangeBatch<never>> {
  const where = describeServer(options.url);
  const client = await connectClient(options.url);
  try {
    const catalog = await loadTables(client, options.mappings, where);
    const keys = new Map(options.mappings.map((m) => [m.table, resolveKeyColumns(m, catalog.get(m.table)!)]));
    options.onTables?.(keys);
    const lsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const startedAt = new Date().toISOString();
    for (const mapping of options.mappings) {
      let rows = 0;
      for await (const chunk of snapshotTable(client, catalog.get(mapping.table)!, keys.get(mapping.table)!, {
        position: pgPosition(lsn, 0),
        commitTs: startedAt,
        chunkSize: options.chunkSize,
        signal: options.signal,
      })) {
        rows += chunk.changes.length;
        yield { changes: chunk.changes };
      }
      options.log.info({ table: mapping.table, rows, position: pgPosition(lsn, 0) }, `re-emitted ${rows} rows of ${mapping.table}`);
    }
    await client.query('COMMIT');
  } finally {
    await client.end().catch(() => undefined);
  }
}
