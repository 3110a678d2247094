export { webhookRoutes, dedupeBucketName, SIGNATURE_HEADER, OP_HEADER } from './inbound.ts';
export { parseLosslessJson, stringifyLossless, JsonNumber, JsonTextError, type LosslessValue, type LosslessObject } from './json-text.ts';
export { vendorRow, missingFields, type VendorRow } from './vendor-row.ts';
export { PositionClock } from './position.ts';
