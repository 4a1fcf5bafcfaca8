import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { mkdir, statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import type { AppConfig } from '../config';
import { HealthCheckDto, HealthReportDto } from './dto/health-report.dto';

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async check(): Promise<HealthReportDto> {
    const [database, storage, disk] = await Promise.all([this.database(), this.storage(), this.disk()]);
    const healthy = [database, storage, disk].every((check) => check.status === 'up');
    return { status: healthy ? 'ok' : 'error', checks: { database, storage, disk } };
  }

  private async database(): Promise<HealthCheckDto> {
    const started = performance.now();
    try {
      const db = this.connection.db;
      if (!db) throw new Error('not connected');
      await Promise.race([
        db.admin().ping(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('ping timed out')), PING_TIMEOUT_MS).unref(),
        ),
      ]);
      return { status: 'up', latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { status: 'down', detail: (error as Error).message };
    }
  }

  /** Writes and removes a probe file: the only proof the upload folder really accepts bytes. */
  private async storage(): Promise<HealthCheckDto> {
    const { uploadDir } = this.config.get('storage', { infer: true });
    const probe = join(uploadDir, `.health-${randomUUID()}`);
    try {
      await mkdir(uploadDir, { recursive: true });
      await writeFile(probe, 'ok');
      await unlink(probe);
      return { status: 'up' };
    } catch (error) {
      return {
        status: 'down',
        detail: `upload folder not writable (${(error as NodeJS.ErrnoException).code})`,
      };
    }
  }

  private async disk(): Promise<HealthCheckDto> {
    const { uploadDir, minFreeDiskBytes } = this.config.get('storage', { infer: true });
    try {
      const stats = await statfs(uploadDir);
      const freeBytes = stats.bavail * stats.bsize;
      return {
        status: freeBytes >= minFreeDiskBytes ? 'up' : 'down',
        freeBytes,
        minFreeBytes: minFreeDiskBytes,
      };
    } catch (error) {
      return { status: 'down', detail: (error as NodeJS.ErrnoException).code };
    }
  }
}
