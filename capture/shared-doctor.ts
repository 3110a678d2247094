/**
 * The frame of `hms-sync doctor`: the report every source kind gives, and for the Oracle and
 * SQL Server sources the session it reads through (connect, check, always close). What is
 * checked is each source's own.
 */
import { errorMessage } from '../src/errors.ts';

export interface DoctorReport {
  where: string;
  method: 'log' | 'none';
  /** 'ok   …', 'FAIL …' and 'note …' lines. */
  lines: string[];
  /** Statements a DBA must run for log capture (or to make it safer). */
  sql: string[];
  ok: boolean;
}

/**
 * Connects (a session that cannot connect is the whole report) and runs `check`, which writes
 * its lines and statements and says whether log capture is possible. A check that throws ends
 * the report there: its error becomes the last FAIL line, the statements written so far stay.
 * The session is closed in every case.
 */
export async function runDoctor<Session>(
  where: string,
  session: { connect: () => Promise<Session>; close: (session: Session) => Promise<void> },
  check: (session: Session, report: { lines: string[]; sql: string[] }) => Promise<boolean>,
): Promise<DoctorReport> {
  const lines: string[] = [];
  const sql: string[] = [];
  let connected: Session;
  try {
    connected = await session.connect();
  } catch (error) {
    return { where, method: 'none', lines: [`FAIL connect: ${errorMessage(error)}`], sql, ok: false };
  }
  try {
    const logPossible = await check(connected, { lines, sql });
    return { where, method: logPossible ? 'log' : 'none', lines, sql, ok: logPossible };
  } catch (error) {
    lines.push(`FAIL ${errorMessage(error)}`);
    return { where, method: 'none', lines, sql, ok: false };
  } finally {
    await session.close(connected).catch(() => undefined);
  }
}
