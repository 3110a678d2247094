import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One PostgreSQL and one nats-server for the whole run; see test/global-setup.ts.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // Forks, not threads: the launchers spawn servers tied to the spawning process
    // (parent-death signal) and register process 'exit' cleanup.
    pool: 'forks',
    // Integration files start their own servers beside the shared ones; on a 2-core CI machine
    // more than two at once only makes them time out. `--maxWorkers` on the CLI overrides.
    maxWorkers: 2,
  },
});
