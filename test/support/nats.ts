// Moved to src/servers/nats.ts (the demo uses it too); re-exported for the tests.
export { natsReady, startNatsProcess, type NatsProcessServer } from '../../src/servers/index.ts';
