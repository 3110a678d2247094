// The OS account a server runs as when we are root.
import { execFileSync } from 'node:child_process';

/** An OS account a server runs as. PostgreSQL's initdb and postgres refuse to run as root. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The account to drop to when we are root (`postgres`, `mysql`; both created by the Debian
 * packages), or undefined when we are not root and the server simply runs as us.
 */
export function serviceUser(name: string): OsUser | undefined {
  if (!isRoot()) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { name, uid, gid };
  } catch (err) {
    throw new Error(
      `OS user "${name}" does not exist; the server cannot run as root. Run scripts/install-deps.sh (its packages create the user).`,
      { cause: err },
    );
  }
}
