#!/usr/bin/env node
// The CLI: the compiled copy in dist/js when it is up to date (`npm install` builds it),
// else the TypeScript sources through tsx's loader (bin/load.js).
import { loadModule } from './load.js';

const { main } = await loadModule('src/cli/main.ts');
// Exit as soon as the command is done: a command that failed may leave a connection or a
// timer behind, and a CLI must not hang on it. (stdout and stderr are synchronous for files
// and pipes on Linux, so nothing written is lost.)
process.exit(await main(process.argv.slice(2)));
