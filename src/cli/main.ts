import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config/index.ts';
import { DEFAULT_PORT, DEFAULT_RATE, parseDemoOptions, runDemo } from '../demo/index.ts';
import { HmsSyncError, errorMessage, exitCodeOf } from '../errors.ts';
import { ReconcileScheduler } from '../../reconcile/index.ts';
import { createLogger } from '../log.ts';
import { lintMappings } from '../mapping/index.ts';
import { startBridge } from '../runtime/bridge.ts';
import type { HttpServerHandle } from '../http/index.ts';
import { startHttpServices } from '../runtime/http-services.ts';
import { ReconcileRuns } from '../metrics/index.ts';
import { redactSecrets } from '../util/secrets.ts';
import { startSubscribers, type SubscriberManager } from '../subscribers/index.ts';
import { scaffoldCommand } from './scaffold.ts';
import { doctorCommand } from './doctor.ts';
import { snapshotCommand } from './snapshot.ts';
import { pauseCommand, type PauseOptions } from './pause.ts';
import { reconcileCommand } from './reconcile.ts';
import { reviewListCommand, reviewResolveCommand, reviewResyncCommand, reviewShowCommand, type ReviewOptions } from './review.ts';

/** Parses argv, runs one command, returns the process exit code (0 ok, 1 runtime, 2 config/mapping). */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('hms-sync')
    .description('Change-data-capture bridge from legacy databases to NATS JetStream')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('run')
    .description('capture, map and publish until stopped (SIGTERM drains and exits 0)')
    .requiredOption('-c, --config <file>', 'config file')
    .action(async (opts: { config: string }) => {
      exitCode = await runCommand(opts.config);
    });

  program
    .command('doctor')
    .description('check every connection and privilege, name each source\'s capture method, print the SQL a DBA must run')
    .requiredOption('-c, --config <file>', 'config file')
    .action(async (opts: { config: string }) => {
      exitCode = await doctorCommand(opts.config);
    });

  for (const action of ['pause', 'resume'] as const) {
    program
      .command(action)
      .description(
        action === 'pause'
          ? "pause a source, or one table of it (log capture keeps the table's changes for resume; polling skips it)"
          : 'resume a source (and its paused tables), or one table of it',
      )
      .requiredOption('-c, --config <file>', 'config file')
      .requiredOption('--source <name>', 'source name')
      .option('--table <schema.table>', 'only this table')
      .option('--by <name>', 'who asks for it (default: the OS user)')
      .action(async (opts: PauseOptions) => {
        exitCode = await pauseCommand(action, opts);
      });
  }

  program
    .command('snapshot')
    .description('re-emit the current rows as r envelopes')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--source <name>', 'only this source')
    .option('--table <schema.table>', 'only this table')
    .action(async (opts: { config: string; source?: string; table?: string }) => {
      exitCode = await snapshotCommand(opts);
    });

  program
    .command('reconcile')
    .description('run the reconciliation once now; differences go to the review queue')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--source <name>', 'only this source')
    .option('--table <schema.table>', 'only this table')
    .option('--catch-up <duration>', 'wait this long for the target to catch up before re-checking differences', '30s')
    .action(async (opts: { config: string; source?: string; table?: string; catchUp?: string }) => {
      exitCode = await reconcileCommand(opts);
    });

  const review = program.command('review').description('work the review queue of diff reports');
  review
    .command('list')
    .description('list the reports, newest first')
    .option('-c, --config <file>', 'config file', 'hms-sync.yaml')
    .option('--json', 'print JSON')
    .option('--status <status>', 'only open or resolved reports')
    .action(async (opts: ReviewOptions) => {
      exitCode = await reviewListCommand(opts);
    });
  review
    .command('show <id>')
    .description("print one report with its differences")
    .option('-c, --config <file>', 'config file', 'hms-sync.yaml')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ReviewOptions) => {
      exitCode = await reviewShowCommand(id, opts);
    });
  review
    .command('resolve <id>')
    .description('mark a report resolved, with a note')
    .option('-c, --config <file>', 'config file', 'hms-sync.yaml')
    .option('--note <text>', 'why it needs no resync')
    .option('--by <name>', 'who resolves it (default: the OS user)')
    .action(async (id: string, opts: ReviewOptions) => {
      exitCode = await reviewResolveCommand(id, opts);
    });
  review
    .command('resync <id>')
    .description("re-emit the report's keys from the source (r envelopes, d for keys gone), then mark it resolved")
    .option('-c, --config <file>', 'config file', 'hms-sync.yaml')
    .option('--by <name>', 'who asks for it (default: the OS user)')
    .option('--note <text>', 'a note kept with the resolution')
    .action(async (id: string, opts: ReviewOptions) => {
      exitCode = await reviewResyncCommand(id, opts);
    });

  const mappings = program.command('mappings').description('mapping files');
  mappings
    .command('lint <dir>')
    .description('validate the mapping files in a folder')
    .action(async (dir: string) => {
      const result = await lintMappings(dir);
      for (const line of result.lines) (result.ok ? process.stdout : process.stderr).write(line + '\n');
      if (!result.ok) exitCode = 2;
    });
  mappings
    .command('scaffold')
    .description("write <source's mappings folder>/<TABLE>.yaml from the live table's columns")
    .requiredOption('-c, --config <file>', 'config file')
    .requiredOption('--source <name>', 'source name')
    .requiredOption('--table <schema.table>', 'source table')
    .option('--force', 'overwrite an existing file')
    .action(async (opts: { config: string; source: string; table: string; force?: boolean }) => {
      exitCode = await scaffoldCommand(opts);
    });

  program
    .command('demo')
    .description('start a bundled legacy database and NATS, run the bridge, show changes flowing (Ctrl-C stops)')
    .option('--port <n>', 'port of the HTTP console and API on 127.0.0.1', String(DEFAULT_PORT))
    .option('--duration <duration>', 'make changes for this long, then stop (e.g. 30s, 2m); default: until Ctrl-C')
    .option('--rate <n>', 'row changes a second', String(DEFAULT_RATE))
    .action(async (opts: { port?: string; duration?: string; rate?: string }) => {
      exitCode = await runDemo(parseDemoOptions(opts));
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    process.stderr.write(`hms-sync: ${redactSecrets(errorMessage(error))}\n`);
    return exitCodeOf(error);
  }
}

async function runCommand(configFile: string): Promise<number> {
  const config = await loadConfig(configFile);
  const log = createLogger(config.log.level);
  const controller = new AbortController();
  const stop = (signal: string): void => {
    if (controller.signal.aborted) return;
    log.info({ signal }, 'stopping: draining in-flight envelopes');
    controller.abort();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const reconcileRuns = new ReconcileRuns();
  const scheduler = new ReconcileScheduler({ config, log, runs: reconcileRuns });
  try {
    scheduler.start();
  } catch (error) {
    throw new HmsSyncError('CONFIG', `${config.file}: reconcile.schedule: ${errorMessage(error)}`);
  }
  let http: HttpServerHandle | undefined;
  let subscribers: SubscriberManager | undefined;
  try {
    const handle = await startBridge(config, log, controller.signal);
    subscribers = await startSubscribers(handle.nc, config, log);
    if (config.http !== undefined) {
      http = await startHttpServices(config.http, {
        bridge: handle,
        subscribers,
        reconcile: { runs: reconcileRuns, scheduler },
        log,
        signal: controller.signal,
      });
    }
    await handle.done;
    await http?.close().catch(() => undefined);
    // Deliveries in flight finish before the connection drains.
    await subscribers.stop();
    await handle.nc.drain().catch(() => undefined);
    for (const [source, c] of handle.counters) log.info({ source, ...c }, 'stopped');
  } finally {
    await http?.close().catch(() => undefined);
    await subscribers?.stop().catch(() => undefined);
    await scheduler.stop();
  }
  return 0;
}

