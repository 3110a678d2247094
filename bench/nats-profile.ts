// BENCH_NATS_PROFILE=SECONDS: nats-server's own CPU profile (Go's pprof, served on a loopback
// port given by `--profile`) over the first SECONDS of each throughput catch-up from its first
// envelope, printed as the share of the frames that say where a message's time goes there.
// An experiment: a run with it does not write the results.
import { freePort } from '../src/servers/index.ts';
import { describeFunctions, readCpuProfile, type CpuProfile } from './pprof.ts';

export const NATS_PROFILE_SECONDS = Number(process.env.BENCH_NATS_PROFILE ?? 0);
if (!Number.isInteger(NATS_PROFILE_SECONDS) || NATS_PROFILE_SECONDS < 0) {
  throw new Error(`BENCH_NATS_PROFILE must be a whole number of seconds, not "${process.env.BENCH_NATS_PROFILE}"`);
}

/**
 * Storing a message, the write(2) each one gets (an R1 stream's file store writes every message
 * through before acknowledging it), matching its subject, the Nats-Msg-Id duplicate check, Go
 * maps (per-subject state, duplicate ids, hashed by aeshashbody) and allocation.
 */
export const NATS_FRAMES =
  /(^|\/)(server\.\(\*client\)\.processInboundClientMsg|server\.\(\*fileStore\)\.StoreMsg|syscall\.pwrite|server\.\(\*Sublist\)\.Match|server\.\(\*stream\)\.(storeMsgIdLocked|checkMsgId)|runtime\.(mapassign_faststr|mapaccess[12]_faststr|evacuate_faststr|mallocgc|gcBgMarkWorker)|aeshashbody)$/;

/** The frames of NATS_FRAMES in a profile, one line each, without the server's module path. */
export function describeNatsFrames(profile: CpuProfile): string[] {
  return describeFunctions(profile, NATS_FRAMES).map((line) => line.replace(/github\.com\/nats-io\/nats-server\/(v2\/)?/, ''));
}

let profilePort: number | undefined;

/** The arguments that make the next nats-server serve its profile (none unless BENCH_NATS_PROFILE). */
export async function natsProfileArgs(): Promise<string[]> {
  if (NATS_PROFILE_SECONDS === 0) return [];
  profilePort = await freePort();
  return ['--profile', String(profilePort)];
}

/** A CPU profile of the nats-server serving it on `port`, over the next `seconds`. */
export async function natsProfile(port: number, seconds: number): Promise<CpuProfile> {
  const response = await fetch(`http://127.0.0.1:${port}/debug/pprof/profile?seconds=${seconds}`);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return readCpuProfile(new Uint8Array(await response.arrayBuffer()));
}

/** Starts a profile of the last nats-server started with natsProfileArgs; resolves with its lines. */
export function startNatsProfile(): Promise<string[]> | undefined {
  if (NATS_PROFILE_SECONDS === 0 || profilePort === undefined) return undefined;
  return natsProfile(profilePort, NATS_PROFILE_SECONDS)
    .then((profile) => [`${profile.seconds.toFixed(2)} CPU s sampled`, ...describeNatsFrames(profile)])
    .catch((error: unknown) => [`no profile: ${error instanceof Error ? error.message : String(error)}`]);
}
