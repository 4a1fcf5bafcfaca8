import { Logger, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import express from 'express';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `npm run build` (demo/build.js) puts the page; the same folder from src/ (tests) and dist/ (npm start). */
export const DEMO_DIR = resolve(__dirname, '..', '..', 'dist', 'web', 'demo');

/**
 * The browser demo page at /demo: static files built from demo/ with esbuild. Served with express.static rather
 * than @nestjs/serve-static, whose catch-all error middleware would apply to every route. Outside /api, so the
 * global JWT guard never sees it; the page authenticates its own API calls. Unknown files fall through to the
 * usual JSON 404.
 */
@Module({})
export class DemoModule implements OnModuleInit {
  private readonly logger = new Logger(DemoModule.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const app = this.adapterHost.httpAdapter?.getInstance<express.Express>();
    if (!app) return;
    if (!existsSync(join(DEMO_DIR, 'index.html'))) {
      this.logger.warn(`The demo page is not built (${DEMO_DIR}): run \`npm run build\``);
    }
    app.use(
      '/demo',
      express.static(DEMO_DIR, {
        index: 'index.html',
        redirect: true,
        // Revalidate on every load (ETag/Last-Modified), so a rebuilt page is picked up at once.
        setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
      }),
    );
  }
}
