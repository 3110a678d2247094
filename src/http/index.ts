export { startHttpServer, type HttpServerHandle, type RouteModule } from './server.ts';
export { authenticator, bearerCheck, forbidden, roleAllows, PERMISSIONS, type Permission, type Principal } from './auth.ts';
export { sourceRoutes, sourceViews, natsLiveness, type SourceView } from './routes/sources.ts';
export { metricsRoutes } from './routes/metrics.ts';
export { reviewRoutes, parseReviewBody, type ReviewRoutesOptions } from './routes/review.ts';
export { reconcileRoutes, type ReconcileRoutesOptions } from './routes/reconcile.ts';
export { deadLetterRoutes, lastDeadLetters, lastMessages, type DeadLetterView } from './routes/dead-letters.ts';
export { consoleRoutes } from './routes/console.ts';
