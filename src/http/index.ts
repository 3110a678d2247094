export { startHttpServer, type HttpServerHandle, type RouteModule } from './server.ts';
export { bearerCheck } from './auth.ts';
export { sourceRoutes, sourceViews, natsLiveness, type SourceView } from './routes/sources.ts';
