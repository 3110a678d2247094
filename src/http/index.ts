export { startHttpServer, type HttpServerHandle, type RouteModule } from './server.ts';
export { authenticator, bearerCheck, forbidden, roleAllows, PERMISSIONS, type Permission, type Principal } from './auth.ts';
export { sourceRoutes, sourceViews, natsLiveness, type SourceView } from './routes/sources.ts';
