// The last line of defence: servers still running and temp dirs still present when this process
// exits without having stopped them (an uncaught error, process.exit). One 'exit' handler for
// both, so the servers get their signal before their dirs are removed under them. The cases where
// 'exit' never runs (SIGKILL, crash) are covered by the parent-death signal and the temp dir sweep.
import { rmSync } from 'node:fs';

const serverSignals = new Set<() => void>();
const tempDirs = new Set<string>();

/** Registers what to send a running server at exit; returns the call that unregisters it. */
export function trackServer(send: () => void): () => void {
  serverSignals.add(send);
  return () => serverSignals.delete(send);
}

/** A temp dir to remove at exit unless untrackTempDir() says it is gone already. */
export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
}

export function untrackTempDir(dir: string): void {
  tempDirs.delete(dir);
}

process.on('exit', () => {
  for (const send of serverSignals) send();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort; the next run sweeps it
    }
  }
});
