export type * from './types.ts';
export { loadConfig, parseConfig } from './load-config.ts';
export { parseDuration } from './duration.ts';
export { CAPTURE_MODES, LOG_LEVELS, SNAPSHOT_MODES, SOURCE_KINDS } from './schema.ts';
