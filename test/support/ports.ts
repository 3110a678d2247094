// Moved to src/servers/ports.ts (the demo uses it too); re-exported for the tests.
export { freePort, LOOPBACK } from '../../src/servers/index.ts';
