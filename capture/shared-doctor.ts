/**
 * The frame of `hms-sync doctor`: the report every source kind gives, and the session it reads
 * through (connect, check, always close; a lost server marks the report interrupted). What is
 * checked is each source's own.
 */
import { errorMessage, type HmsSyncError } from '../src/errors.ts';

export interface DoctorReport {
  where: string;
  method: 'log' | 'none';
  /** 'ok   …', 'FAIL …' and 'note …' lines. */
  lines: string[];
  /** Statements a DBA must run for log capture (or to make it safer). */
  sql: string[];
  ok: boolean;
  /**
   * Set when the server went away while it was being checked: the report is cut short and does
   * not say whether log capture is possible, so `capture: auto` fails the attempt (retried)
   * instead of taking the missing answer for a reason to poll.
   */
  interrupted?: HmsSyncError;
  /**
   * Set when no session could be opened: the driver's classified error (a wrong password is
   * SOURCE_AUTH, a server that does not answer SOURCE_UNREACHABLE), for `capture: auto` to fail
   * the attempt with.
   */
  connectError?: HmsSyncError;
}

/** Whether an error (classified by the source's driver) says the server went away. */
export function lostServer(error: HmsSyncError): boolean {
  return error.code === 'SOURCE_UNREACHABLE';
}

/** `interrupted` for a report ended by `error`: only a lost server. */
function interruption(error: HmsSyncError): Pick<DoctorReport, 'interrupted'> {
  return lostServer(error) ? { interrupted: error } : {};
}

/**
 * Connects (a session that cannot connect is the whole report) and runs `check`, which writes
 * its lines and statements and says whether log capture is possible. A check that throws ends
 * the report there: its error becomes the last FAIL line, the statements written so far stay,
 * and a lost server (by `classify`, the driver's error classifier) marks it interrupted.
 * The session is closed in every case.
 */
export async function runDoctor<Session>(
  where: string,
  session: { connect: () => Promise<Session>; close: (session: Session) => Promise<void>; classify: (error: unknown) => HmsSyncError },
  check: (session: Session, report: { lines: string[]; sql: string[] }) => Promise<boolean>,
): Promise<DoctorReport> {
  const lines: string[] = [];
  const sql: string[] = [];
  let connected: Session;
  try {
    connected = await session.connect();
  } catch (error) {
    const classified = session.classify(error);
    return { where, method: 'none', lines: [`FAIL connect: ${errorMessage(error)}`], sql, ok: false, connectError: classified, ...interruption(classified) };
  }
  try {
    const logPossible = await check(connected, { lines, sql });
    return { where, method: logPossible ? 'log' : 'none', lines, sql, ok: logPossible };
  } catch (error) {
    lines.push(`FAIL ${errorMessage(error)}`);
    return { where, method: 'none', lines, sql, ok: false, ...interruption(session.classify(error)) };
  } finally {
    await session.close(connected).catch(() => undefined);
  }
}
