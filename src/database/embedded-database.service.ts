import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { RunningServer, startEmbeddedMongoServer } from './embedded-mongo-server';

/** Owns the embedded database server for the app's lifetime: started on demand, stopped on shutdown. */
@Injectable()
export class EmbeddedDatabaseService implements OnApplicationShutdown {
  private readonly logger = new Logger('EmbeddedDatabase');
  private server?: RunningServer;

  constructor(private readonly config: ConfigService<AppConfig, true>) {}

  async start(): Promise<string> {
    const db = this.config.get('database', { infer: true });
    this.server = await startEmbeddedMongoServer({
      dataDir: db.embeddedDataDir,
      cacheDir: db.embeddedCacheDir,
      log: (message) => this.logger.log(message),
      // Nest buffers log lines until the app is created, which waits for this build: write these straight away.
      buildLog: (line) => process.stderr.write(`[EmbeddedDatabase] ${line}\n`),
    });
    return this.server.uri;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }
}
