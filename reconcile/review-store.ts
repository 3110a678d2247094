/**
 * The review queue: diff reports in a NATS KV bucket, so every bridge instance and every
 * reviewer sees one queue. A KV bucket rather than a plain stream because a report is a
 * record that changes state (open -> resolved): KV gives get-by-id, and update-if-unchanged
 * (the revision check) so two reviewers resolving one report cannot overwrite each other;
 * its history keeps the previous states for an audit. Underneath it is still a JetStream
 * stream (KV_<bucket>), replicated like the rest of the bridge's state.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError, errorMessage } from '../src/errors.ts';
import { sortReports, type DiffReport } from './report.ts';

/** `<stream, lower case>_review`: `hms_sync_review` for the default stream HMS_SYNC. */
export function reviewBucketName(streamName: string): string {
  return `${streamName.toLowerCase()}_review`;
}

export class ReviewStore {
  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
  ) {}

  static async open(nc: NatsConnection, bucket: string, replicas = 1): Promise<ReviewStore> {
    try {
      const kv = await new Kvm(nc).create(bucket, { history: 10, replicas });
      return new ReviewStore(kv, bucket);
    } catch (error) {
      throw new HmsSyncError('NATS', `cannot open the review queue (KV bucket ${bucket}): ${errorMessage(error)}`, {
        cause: error,
        retryable: true,
      });
    }
  }

  async add(report: DiffReport): Promise<void> {
    await this.kv.create(report.id, JSON.stringify(report));
  }

  async get(id: string): Promise<{ report: DiffReport; revision: number } | undefined> {
    if (!/^[-/_=.a-zA-Z0-9]+$/.test(id)) return undefined;
    const entry = await this.kv.get(id);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    return { report: entry.json<DiffReport>(), revision: entry.revision };
  }

  /** Every report, newest first. */
  async list(): Promise<DiffReport[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    const reports: DiffReport[] = [];
    for (const key of keys) {
      const found = await this.get(key);
      if (found) reports.push(found.report);
    }
    return sortReports(reports);
  }

  /**
   * Applies `change` to the current report and writes it only if nobody else wrote in
   * between (retrying on the newer version).
   */
  async update(id: string, change: (report: DiffReport) => DiffReport): Promise<DiffReport> {
    for (let attempt = 0; ; attempt++) {
      const found = await this.get(id);
      if (!found) throw new HmsSyncError('INTERNAL', `no report ${id} in the review queue (${this.bucket})`);
      const next = change(found.report);
      try {
        await this.kv.update(id, JSON.stringify(next), found.revision);
        return next;
      } catch (error) {
        if (attempt >= 5 || !/wrong last sequence/i.test(errorMessage(error))) throw error;
      }
    }
  }
}
