#!/usr/bin/env -S node --max-semi-space-size=1
// The CLI: the compiled copy in dist/js when it is up to date (`npm install` builds it),
// else the TypeScript sources through tsx's loader (bin/load.js).
//
// The first line gives node a 1 MB young-generation semi-space (16 MB by default): its young
// generation stays at 2 MB instead of growing to 32 MB, and a bridge streaming a 1M-row
// transaction peaks ~50 MB lower (under 200 MB), for more garbage-collection CPU (about twice
// the GC time streaming a MariaDB backlog; polling passes that read rows ~30 % longer:
// docs/benchmarks.md, "Memory"). It applies wherever the
// file is run as a program (`hms-sync`, `npx hms-sync`, the image's entrypoint); node's
// defaults: `node bin/hms-sync.js …` (a flag in NODE_OPTIONS does not override the first line).
import { loadModule } from './load.js';

const { main } = await loadModule('src/cli/main.ts');
// Exit as soon as the command is done: a command that failed may leave a connection or a
// timer behind, and a CLI must not hang on it. (stdout and stderr are synchronous for files
// and pipes on Linux, so nothing written is lost.)
process.exit(await main(process.argv.slice(2)));
