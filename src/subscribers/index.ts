export { SubscriberManager, fieldTypesOf, startSubscribers, type SubscriberManagerOptions } from './manager.ts';
export { subscriberRoutes } from './routes.ts';
export { parseSubscriberBody, resolveSpec, subscriberNames, takes, filterSubject, type SubscriberView, type SubscriberNames } from './spec.ts';
export { backoffDelayMs } from './backoff.ts';
export { DeliveryLog, latencyMs } from './deliveries.ts';
export { createSink, PostgresSink, WebhookSink, signBody, POSITIONS_TABLE, type SubscriberSink, type EntityFieldTypes } from './sinks/index.ts';
export type * from './types.ts';
export { SUBSCRIBER_DEFAULTS, OFFLINE_AFTER_FAILURES } from './types.ts';
