// The package's entry point for `import { connect } from 'hms-sync'`: the sources are
// TypeScript run through tsx's loader (as the CLI is), so there is no build step.
import { register } from 'tsx/esm/api';

register();
const lib = await import('./index.ts');
export const connect = lib.connect;
export const HmsSyncError = lib.HmsSyncError;
