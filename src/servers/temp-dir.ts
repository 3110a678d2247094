// The temp dirs the servers live in, and the sweep of dirs left by a process that died without
// removing them (SIGKILL, crash: its 'exit' handler never ran).
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { untrackTempDir, trackTempDir } from './exit-cleanup.ts';
import type { OsUser } from './os-user.ts';
import { isAlive } from './pids.ts';

const TEMP_PREFIX = 'hms-sync-';
/** `hms-sync-<purpose>-<kind>-<pid>-XXXXXX`; the pid says whether its owner is still alive. */
const TEMP_DIR_PATTERN = /^hms-sync-[a-z]+-[a-z0-9]+-(\d+)-/;

let swept = false;

function tempBase(): string {
  // The servers run as another OS user when we are root, so the base must be traversable by
  // them: /tmp is, a TMPDIR under /root would not be.
  return process.env.HMS_SYNC_TEST_TMPDIR ?? tmpdir();
}

/**
 * A fresh dir `hms-sync-<purpose>-<kind>-<pid>-XXXXXX` under the temp base, mode 0700, owned by
 * `owner` if given. `purpose` is `test` unless a caller says otherwise (the demo says `demo`).
 * The pid in the name lets a later run remove dirs whose process is gone.
 */
export function makeTempDir(kind: string, owner?: OsUser, purpose = 'test'): string {
  if (!/^[a-z]+$/.test(purpose) || !/^[a-z0-9]+$/.test(kind)) {
    throw new Error(`temp dir purpose "${purpose}" and kind "${kind}" must be lower-case letters (and digits for the kind)`);
  }
  if (!swept) {
    swept = true;
    sweepStaleTempDirs();
  }
  const dir = mkdtempSync(join(tempBase(), `${TEMP_PREFIX}${purpose}-${kind}-${process.pid}-`));
  chmodSync(dir, 0o700);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  trackTempDir(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  untrackTempDir(dir);
}

function sweepStaleTempDirs(): void {
  const base = tempBase();
  let entries: string[];
  try {
    entries = readdirSync(base);
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = TEMP_DIR_PATTERN.exec(entry);
    if (!match || isAlive(Number(match[1]))) continue;
    try {
      rmSync(join(base, entry), { recursive: true, force: true });
    } catch {
      // Not ours to fight over; the next sweep tries again.
    }
  }
}
