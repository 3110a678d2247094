// Moved to src/servers/pg-access.ts (the demo uses it too); re-exported for the tests.
export { pgQuery, pgReady, pgUrl, quoteIdent } from '../../src/servers/index.ts';
