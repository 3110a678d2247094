export { PauseStore, PauseWatch, applyPause, controlKey, defaultActor, NOT_PAUSED, type PauseRequest, type PauseState, type PauseView } from './pause-state.ts';
export { HeldChangesSource, type HeldCheckpoint, type HeldChangesOptions } from './held-changes.ts';
export { JetStreamHeldStore, heldStreamName, heldSubject, HELD_SUBJECT_ROOT, type HeldStore, type HeldMessage } from './held-store.ts';
export { encodeRawChange, decodeRawChange } from './raw-change-codec.ts';
export { runUnlessPaused } from './pausable.ts';
export { pauseTarget, type PauseTargetProblem } from './target.ts';
