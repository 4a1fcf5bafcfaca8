import { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigService } from '@nestjs/config';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { mapBodyParserErrors } from '../common/http/body-parser-errors';
import { requestIdFor } from '../common/http/request-id';
import { isIetfUploadPath, isTusPath } from '../chunk';
import type { AppConfig } from '../config';
import { applyHttpTimeouts } from './http-timeouts';
import { setupOpenApi } from './openapi';
import { createValidationPipe } from './validation.pipe';

/** Everything main.ts and the e2e tests share, so tests run the app exactly as it ships. */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get<ConfigService<AppConfig, true>>(ConfigService);
  const http = config.get('http', { infer: true });

  // First middleware of all, so even body-parser errors carry a request id.
  app.use((req: Request, res: Response, next: NextFunction) => {
    req.id = requestIdFor(req, res);
    next();
  });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', http.trustProxy);
  app.disable('x-powered-by');
  app.use(helmet({ crossOriginResourcePolicy: { policy: 'same-site' } }));
  const cors = {
    origin: http.corsOrigins === '*' ? true : http.corsOrigins,
    // Retry-After, so a browser client can wait out a 429 as told.
    exposedHeaders: [
      'X-Request-Id',
      'Content-Disposition',
      'Content-Range',
      'Accept-Ranges',
      'ETag',
      'Retry-After',
    ],
    maxAge: 600,
  };
  // tus clients discover the server with OPTIONS /api/tus (Tus-Version, Tus-Extension), IETF draft clients with
  // OPTIONS /api/uploads (Accept-Patch, Upload-Limit): those requests, CORS preflights included, go on to their
  // protocol's route, which adds its own headers to these.
  app.enableCors((req: Request, callback) =>
    callback(null, { ...cors, preflightContinue: isTusPath(req.url) || isIetfUploadPath(req.url) }),
  );
  // API answers carry tokens and user data: never stored by a cache unless a route says otherwise (media content).
  app.use('/api', (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.useBodyParser('json', { limit: '100kb' });
  app.use(mapBodyParserErrors);
  app.setGlobalPrefix('api');
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  applyHttpTimeouts(app.getHttpServer(), {
    headersTimeoutMs: http.headersTimeoutMs,
    idleTimeoutMs: http.idleTimeoutMs,
  });
  setupOpenApi(app);
}
