// The package's entry point for `import { connect } from 'hms-sync'`: the compiled copy in
// dist/js when it is up to date, else the TypeScript sources through tsx's loader (as the
// CLI does, bin/load.js).
import { loadModule } from '../../bin/load.js';

const lib = await loadModule('src/lib/index.ts');
export const connect = lib.connect;
export const HmsSyncError = lib.HmsSyncError;
