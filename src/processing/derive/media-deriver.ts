import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config';
import { derivedKey, derivedPrefix, StorageDriver } from '../../storage';
import type { DerivedFiles } from '../processing-state';
import type { DeriveContext, DeriveSource } from './derive-plan';
import { DeriveTools } from './derive-tools';
import { derivePhoto } from './photo-derivation';
import { deriveVideo } from './video-derivation';
import { WorkFolder } from './work-folder';

export type { DeriveSource } from './derive-plan';

/** Presigned tool inputs (S3) outlive the job by this much, so a tool still reading at its deadline is not cut off. */
const INPUT_TTL_MARGIN_SECONDS = 60;

/**
 * Makes an upload's derived files (thumbnails, poster, rendition; see docs/architecture.md, "Derived files") and
 * stores them under `derived/<user>/<upload>/`. Never touches the original. Every tool runs in a child process
 * (ffmpeg, heif-convert, the sharp image worker) at low priority within the job's time; everything is made in a
 * private temp folder first, so a failure stores nothing. A malformed file rejects with an Error naming the step
 * (the job fails and is retried); it never brings this process down.
 */
@Injectable()
export class MediaDeriver {
  constructor(
    private readonly storage: StorageDriver,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async derive(source: DeriveSource, signal: AbortSignal): Promise<DerivedFiles> {
    const settings = this.config.get('processing', { infer: true });
    const prefix = derivedPrefix(source.userId, source.uploadId);
    // A retried attempt starts clean: openWrite never overwrites what an earlier one stored.
    await this.storage.removePrefix(prefix);
    const work = await WorkFolder.create();
    try {
      const context: DeriveContext = {
        storage: this.storage,
        work,
        tools: new DeriveTools(settings, signal),
        signal,
        inputTtlSeconds: Math.ceil(settings.jobTimeoutMs / 1000) + INPUT_TTL_MARGIN_SECONDS,
      };
      const made =
        source.kind === 'photo' ? await derivePhoto(source, context) : await deriveVideo(source, context);
      await this.storage.ensurePrefix(prefix);
      const derived: DerivedFiles = {};
      for (const { field, name, ...target } of made) {
        const key = derivedKey(source.userId, source.uploadId, name);
        derived[field] = await work.store(this.storage, name, { key, ...target }, signal);
      }
      return derived;
    } catch (error) {
      await this.storage.removePrefix(prefix).catch(() => undefined);
      throw error;
    } finally {
      await work.remove();
    }
  }
}
