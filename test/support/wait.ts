// Moved to src/servers/wait.ts (the demo uses it too); re-exported for the tests.
export { waitFor, type WaitForOptions } from '../../src/servers/index.ts';
