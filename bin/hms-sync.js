#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader, so `npm ci` is the only step
// before `npx hms-sync` works (no separate build).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// Exit as soon as the command is done: a command that failed may leave a connection or a
// timer behind, and a CLI must not hang on it. (stdout and stderr are synchronous for files
// and pipes on Linux, so nothing written is lost.)
process.exit(await main(process.argv.slice(2)));
