/**
 * The durable start of binlog capture for a source that was polled until now (the switch in
 * docs/polling.md "Switching to log capture", step a): the binlog point of a consistent
 * snapshot, recorded in the offsets bucket exactly as MysqlSource keeps its own resume point
 * (`mysql.<source>`, snapshot done, no rows read), so the next start streams from it.
 *
 * Why the point of a consistent snapshot and not plain SHOW MASTER STATUS: a transaction is
 * written to the binlog a moment before it becomes visible in InnoDB. A point read alone could
 * lie after such a transaction while the poll pass that follows does not see it yet: the pass
 * would miss it and the binlog would start after it. Every transaction before the point of a
 * consistent snapshot is visible in that snapshot, hence to every read that starts later.
 */
import type { Logger } from '../../src/log.ts';
import type { OffsetStore } from '../../src/ports.ts';
import { HmsSyncError } from '../../src/errors.ts';
import { classifyMysqlError, connectMysql, describeServer } from './connection.ts';
import { stateKey, type MysqlState } from './mysql-source.ts';
import { describePoint, type BinlogPoint } from './position.ts';
import { binlogProblems, readServerSettings } from './settings.ts';
import { beginSnapshot } from './snapshot.ts';

export async function recordBinlogStart(options: { url: string; sourceName: string; offsets: OffsetStore; log: Logger }): Promise<BinlogPoint> {
  const where = describeServer(options.url);
  const connection = await connectMysql(options.url, where);
  try {
    const settings = await readServerSettings(connection).catch((error: unknown) => {
      throw classifyMysqlError(error, where);
    });
    const problems = binlogProblems(settings);
    if (problems.length > 0) {
      throw new HmsSyncError('SOURCE_STATE', `${where}: log capture is not possible: ${problems.join('; ')}`, { retryable: true });
    }
    const point = (await beginSnapshot(connection, settings.flavor, { needPoint: true, log: options.log, where }))!;
    await connection.query('COMMIT').catch(() => undefined);
    const state: MysqlState = {
      flavor: settings.flavor,
      serverId: settings.serverId,
      snapshot: { status: 'done', point, startedAt: new Date().toISOString(), tables: {} },
      updatedAt: new Date().toISOString(),
    };
    await options.offsets.put(stateKey(options.sourceName), state);
    options.log.info({ point: describePoint(point) }, `binlog capture will start at ${describePoint(point)}`);
    return point;
  } finally {
    await connection.end().catch(() => undefined);
  }
}
