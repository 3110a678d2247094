/**
 * What the Oracle and SQL Server captures keep in the offsets bucket (key `<kind>.<source>`):
 * the snapshot's progress and the resume point. The bucket is the only record of where to
 * resume: it is read once per attempt, written when a snapshot starts, and otherwise only
 * through commit(), when JetStream holds everything before the checkpoint.
 */
import type { OffsetStore, SnapshotProgress } from '../src/ports.ts';
import type { StoredKeyValue } from './shared-keyset-snapshot.ts';

export interface LogCaptureState<Point, Resume> {
  snapshot?: SnapshotProgress<Point, StoredKeyValue>;
  /** Every transaction committed up to this resume point is in JetStream. */
  confirmed?: Resume;
  updatedAt: string;
}

export class OffsetsRecord<Point, Resume> {
  private state: LogCaptureState<Point, Resume> | undefined;

  /**
   * `advances(resume, confirmed)`: whether a resume point tells more than the confirmed one;
   * one that does not is not written.
   */
  constructor(
    private readonly offsets: OffsetStore,
    readonly key: string,
    private readonly advances: (resume: Resume, confirmed: Resume) => boolean,
  ) {}

  /** The resume point the record holds, once open() has read it. */
  get confirmed(): Resume | undefined {
    return this.state?.confirmed;
  }

  /**
   * Reads the record. Without snapshot progress in it, a snapshot starts at the point
   * `consistentPoint` reads (done at once where the source takes none, `snapshot: never`) and
   * is recorded before the first row goes out: a crash mid-snapshot resumes at the same point.
   * `started` says the snapshot is new.
   */
  async open(
    snapshot: 'initial' | 'never',
    consistentPoint: () => Promise<Point>,
  ): Promise<{ progress: SnapshotProgress<Point, StoredKeyValue>; started: boolean }> {
    this.state = await this.offsets.get<LogCaptureState<Point, Resume>>(this.key);
    const recorded = this.state?.snapshot;
    if (recorded) return { progress: recorded, started: false };
    const point = await consistentPoint();
    const progress: SnapshotProgress<Point, StoredKeyValue> = {
      status: snapshot === 'never' ? 'done' : 'running',
      point,
      startedAt: new Date().toISOString(),
      tables: {},
    };
    this.state = { snapshot: progress, updatedAt: new Date().toISOString() };
    await this.offsets.put(this.key, this.state);
    return { progress, started: true };
  }

  /** Snapshot progress up to rows JetStream holds. */
  async commitSnapshot(progress: SnapshotProgress<Point, StoredKeyValue>): Promise<void> {
    if (!this.state) return;
    this.state = { ...this.state, snapshot: progress, updatedAt: new Date().toISOString() };
    await this.offsets.put(this.key, this.state);
  }

  /** A resume point up to which JetStream holds every change. */
  async commitResume(resume: Resume): Promise<void> {
    if (!this.state) return;
    const confirmed = this.state.confirmed;
    if (confirmed && !this.advances(resume, confirmed)) return;
    this.state = { ...this.state, confirmed: resume, updatedAt: new Date().toISOString() };
    await this.offsets.put(this.key, this.state);
  }
}
