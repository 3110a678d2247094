export {
  metricsRegistry,
  envelopesTotal,
  deadLettersTotal,
  deliveriesTotal,
  publishLatencySeconds,
  pollPassSeconds,
  slotRetainedBytes,
  slotUnconfirmedBytes,
  provideSourceGauges,
  renderMetrics,
  ensureDefaultMetrics,
  SOURCE_STATES,
  type SourceGaugeSample,
} from './registry.ts';
export { SourceMetrics, sourceMetrics, captureLagSeconds } from './source-metrics.ts';
export { ProgressMeter, progressText, formatSeconds, PROGRESS_LOG_EVERY_MS, type ProgressView, type ProgressTask } from './progress.ts';
export { observeAttempt, type CaptureObserver } from './observer.ts';
export { SlotWatch, SLOT_CHECK_INTERVAL_MS, type SlotView } from './slot-monitor.ts';
export { LOG_EVENTS, logSourceState } from './events.ts';
export { ReconcileRuns, type ReconcileRunView } from './reconcile-runs.ts';
