import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { statfs } from 'node:fs/promises';
import type { Connection } from 'mongoose';
import type { AppConfig } from '../config';
import { StorageDriver } from '../storage';
import { HealthCheckDto, HealthReportDto } from './dto/health-report.dto';

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly config: ConfigService<AppConfig, true>,
    private readonly driver: StorageDriver,
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

  /** Through the storage driver: a probe object written and removed (the upload folder, or the S3 bucket). */
  private async storage(): Promise<HealthCheckDto> {
    try {
      await this.driver.probe();
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', detail: (error as Error).message };
    }
  }

  private async disk(): Promise<HealthCheckDto> {
    // Upload bytes do not touch the local disk with STORAGE_DRIVER=s3.
    if (this.config.get('storageDriver', { infer: true }) === 's3') return { status: 'up' };
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
