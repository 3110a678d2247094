export * from './types.ts';
export * from './normalize.ts';
export { IndexedSide, checksumOf, type IndexEntry } from './indexed-side.ts';
export { bisect, compareRows, diffRowSets, reconcileSides, type BisectOptions, type ReconcileOptions, type ReconcileOutcome } from './bisect.ts';
export * from './report.ts';
export { ReviewStore, reviewBucketName } from './review-store.ts';
export { runReconcile, selectTables, openReviewStore, connectConfigNats, DEFAULT_CATCH_UP_MS, type TableResult } from './run.ts';
export { resyncReport, invertKey, type ResyncResult } from './resync.ts';
export { ReconcileScheduler, type ReconcileSchedulerOptions } from './scheduler.ts';
