// Starts the PostgreSQL and nats-server every test file shares (isolation per test comes from
// test/support/context.ts) and hands their addresses to the tests through provide/inject.
// On a machine without the server binaries it first runs scripts/install-deps.sh, so `npm test`
// on a fresh Debian 12 machine installs what it needs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { missingServerPackages } from './support/binaries.ts';
import type {} from './support/provided-context.ts';
import { startNats, startPostgres } from './support/servers.ts';

const installScript = fileURLToPath(new URL('../scripts/install-deps.sh', import.meta.url));

function ensureServerBinaries(): void {
  if (process.env.HMS_SYNC_TESTCONTAINERS === '1') return;
  const missing = missingServerPackages();
  if (missing.length === 0) return;
  console.warn(`[global-setup] missing ${missing.join(', ')}; running ${installScript}`);
  const result = spawnSync('bash', [installScript], { stdio: 'inherit' });
  const stillMissing = missingServerPackages();
  if (result.status !== 0 || stillMissing.length > 0) {
    throw new Error(
      `the integration tests need ${missing.join(', ')} and ${installScript} could not install them ` +
        `(exit ${result.status ?? result.signal ?? result.error?.message}; still missing: ${stillMissing.join(', ') || 'none'}). ` +
        'Run it by hand as root, or set HMS_SYNC_TESTCONTAINERS=1 on a machine with a Docker engine.',
      { cause: result.error },
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureServerBinaries();
  const started = await Promise.allSettled([startPostgres(), startNats()]);
  const [postgres, nats] = started;
  const disposeAll = async () => {
    const stopped = await Promise.allSettled(
      started.flatMap((s) => (s.status === 'fulfilled' ? [s.value[Symbol.asyncDispose]()] : [])),
    );
    const failures = stopped.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
    if (failures.length > 0) throw new AggregateError(failures, 'stopping the shared test servers failed');
  };
  if (postgres.status === 'rejected' || nats.status === 'rejected') {
    await disposeAll().catch(() => undefined);
    const failures = started.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
    throw new AggregateError(failures, `starting the shared test servers failed: ${failures.map(String).join('; ')}`);
  }
  project.provide('pgSuperuserUrl', postgres.value.superuserUrl());
  project.provide('pgPort', postgres.value.port);
  project.provide('natsUrl', nats.value.url);
  return disposeAll;
}
