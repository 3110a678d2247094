#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=100 --single-threaded-gc
// The CLI: the compiled copy in dist/js when it is up to date (`npm install` builds it),
// else the TypeScript sources through tsx's loader (bin/load.js).
//
// The first line gives node an 8 MB young-generation semi-space (16 MB by default) and lets
// the old generation grow to twice what survived its last full collection before the next
// (V8 picks up to four times by default). Most of a bridge's peak was old-generation garbage
// waiting for that next collection: streaming a 1M-row transaction it peaks ~160 MB instead
// of ~240 MB with node's defaults, and ~190 MB with the 1 MB semi-space used before, which
// cost a third more garbage-collection CPU (docs/benchmarks.md, "Memory"). It applies
// wherever the file is run as a program (`hms-sync`, `npx hms-sync`, the image's entrypoint);
// node's defaults: `node bin/hms-sync.js …` (a flag in NODE_OPTIONS does not override the
// first line).
import { loadModule } from './load.js';

const { main } = await loadModule('src/cli/main.ts');
// Exit as soon as the command is done: a command that failed may leave a connection or a
// timer behind, and a CLI must not hang on it. (stdout and stderr are synchronous for files
// and pipes on Linux, so nothing written is lost.)
process.exit(await main(process.argv.slice(2)));
