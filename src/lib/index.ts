/**
 * `import { connect } from 'hms-sync'`: the library API (README "Library API").
 */
export { connect, type ConnectOptions, type EmitOptions, type EmitResult, type EnvelopeHandler, type HmsSyncClient, type SubscribeOptions, type Subscription } from './client.ts';
export type { Envelope, Op } from '../envelope/index.ts';
export type { JsonObject, JsonValue } from '../mapping/types.ts';
export { HmsSyncError } from '../errors.ts';
