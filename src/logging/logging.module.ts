import { Module, RequestMethod } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { requestIdFor } from '../common/http/request-id';
import type { AppConfig } from '../config';

/** Structured JSON logs with the request id on every line; credentials never reach them. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        // Express 5 path syntax; nestjs-pino's default `*` makes Nest log a LegacyRouteConverter warning at boot.
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
        pinoHttp: {
          level: config.get('log', { infer: true }).level,
          // A person at a terminal in development reads coloured lines; everywhere else stays JSON lines.
          transport:
            config.get('env', { infer: true }) === 'development' && process.stdout.isTTY
              ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } }
              : undefined,
          genReqId: requestIdFor,
          customAttributeKeys: { reqId: 'requestId' },
          redact: {
            paths: [
              'req.headers.authorization',
              'req.headers.cookie',
              'req.query.ticket',
              'req.query.token',
              'req.query.signature',
              'res.headers["set-cookie"]',
            ],
            censor: '[redacted]',
          },
          serializers: {
            // Query strings can carry signed-URL signatures and SSE tickets: log the path only.
            req: (req: { id: string; method: string; url: string }) => ({
              id: req.id,
              method: req.method,
              path: req.url.split('?')[0],
            }),
          },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
