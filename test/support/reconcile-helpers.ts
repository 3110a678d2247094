// Helpers for the reconciliation tests: CLI runs that parse --json, and the review queue.
import { expect } from 'vitest';
import { runCli } from './bridge.ts';

export async function cliJson<T>(args: string[]): Promise<T> {
  const result = await runCli(args);
  expect(result.code, `hms-sync ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** `hms-sync reconcile` that must exit 0; returns its stdout. */
export async function reconcile(configPath: string, ...extra: string[]): Promise<string> {
  const result = await runCli(['reconcile', '-c', configPath, '--catch-up', '1s', ...extra]);
  expect(result.code, `reconcile failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

export function reportIdIn(output: string): string {
  const m = /report (\d{8}-\d{6}-[0-9a-f]{6})/.exec(output);
  if (!m) throw new Error(`no report id in:\n${output}`);
  return m[1]!;
}

export interface ListedReport {
  id: string;
  source: string;
  table: string;
  status: 'open' | 'resolved';
  createdAt: string;
  counts: { missingInTarget: number; missingInSource: number; different: number };
}
