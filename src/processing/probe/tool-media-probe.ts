import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import sharp from 'sharp';
import { AppConfig, ConfigValidationError } from '../../config';
import { StorageDriver } from '../../storage';
import { inputArgs } from '../derive/ffmpeg-args';
import { WorkFolder } from '../derive/work-folder';
import { MediaMetadata } from '../media-metadata';
import { runTool, ToolFailure } from '../tools/run-tool';
import { FfprobeOutput, ffprobeMetadata } from './ffprobe-metadata';
import { MediaContentRefusal, MediaProbe, ProbeInput } from './media-probe';
import { photoMetadata } from './photo-metadata';

/** ffprobe's JSON for a real file is a few KiB; a hostile one (thousands of streams) is cut off here. */
const MAX_FFPROBE_OUTPUT = 1024 * 1024;

/**
 * ffprobe failures that are the storage's, not the file's (S3 unreachable, a presigned URL refused, a staged file
 * gone): the upload fails as a server error and is not refused.
 */
const IO_FAILURE =
  /HTTP error|Server returned|Connection refused|Connection timed out|Failed to resolve|No such file|Permission denied/i;

/**
 * The probe at finalisation: ffprobe (as a child process, time- and output-bounded) for videos, sharp's header
 * metadata and EXIF for photos. Neither decodes the media: ffprobe reads the container's index and a few packets,
 * sharp only the header. Cancelling the upload does not stop a probe in progress: it ends within
 * PROBE_TIMEOUT_MS and the finaliser then sees the cancel before the record completes.
 */
@Injectable()
export class ToolMediaProbe extends MediaProbe implements OnModuleInit {
  private readonly logger = new Logger(ToolMediaProbe.name);
  private readonly settings: AppConfig['processing'];

  constructor(
    private readonly storage: StorageDriver,
    config: ConfigService<AppConfig, true>,
  ) {
    super();
    this.settings = config.get('processing', { infer: true });
  }

  /** A service that cannot check uploads must not take them: no ffprobe, no start. */
  async onModuleInit(): Promise<void> {
    const { ffprobePath, probeTimeoutMs } = this.settings;
    try {
      await runTool(ffprobePath, ['-version'], {
        timeoutMs: probeTimeoutMs,
        maxStdoutBytes: MAX_FFPROBE_OUTPUT,
      });
    } catch (error) {
      const message =
        `Invalid configuration: FFPROBE_PATH (${ffprobePath}) cannot be run: ${(error as Error).message}. ` +
        "Install Debian's ffmpeg package (apt-get install ffmpeg) or point FFPROBE_PATH at ffprobe.";
      this.logger.error(message);
      throw new ConfigValidationError(message);
    }
  }

  async probe(input: ProbeInput): Promise<MediaMetadata> {
    return input.kind === 'video' ? this.probeVideo(input) : this.probePhoto(input);
  }

  private async probeVideo({ key, mimeType }: ProbeInput): Promise<MediaMetadata> {
    const { ffprobePath, probeTimeoutMs } = this.settings;
    const source = await this.storage.toolInput(key, ttlSeconds(probeTimeoutMs));
    // The input options pin the demuxer to the sniffed type and the protocols to the input's own (see inputArgs).
    const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'];
    const url = localUrl(source);
    let stdout: Buffer;
    try {
      stdout = await runTool(ffprobePath, [...args, ...inputArgs(url, mimeType)], {
        timeoutMs: probeTimeoutMs,
        maxStdoutBytes: MAX_FFPROBE_OUTPUT,
      });
    } catch (error) {
      throw this.ffprobeFailure(error, url);
    }
    let output: FfprobeOutput;
    try {
      output = JSON.parse(stdout.toString('utf8')) as FfprobeOutput;
    } catch {
      throw new MediaContentRefusal('the video could not be read (its description is not valid)');
    }
    return ffprobeMetadata(output, mimeType);
  }

  /** A refusal for what the file did to ffprobe; the error itself when ffprobe or the storage failed. */
  private ffprobeFailure(error: unknown, url: string): Error {
    if (!(error instanceof ToolFailure)) return error as Error;
    switch (error.kind) {
      case 'timeout':
        return new MediaContentRefusal(
          `the video could not be read within ${this.settings.probeTimeoutMs} ms`,
        );
      case 'output-limit':
        return new MediaContentRefusal('the video describes too many streams to be read');
      case 'exit': {
        if (IO_FAILURE.test(error.stderr)) return error;
        const reason = ffprobeReason(error.stderr, url);
        return new MediaContentRefusal(`the video cannot be opened${reason ? ` (${reason})` : ''}`);
      }
      default:
        return error; // 'spawn' (ffprobe missing) or 'aborted': the service's fault, not the file's
    }
  }

  /**
   * sharp reads files, not URLs: on S3 the photo is first copied (streamed) to a private temp folder, which the
   * upload's own size limit bounds. The time limit covers the copy and the header read; sharp's work cannot be
   * stopped, but a header read does not decode pixels (those are decoded only in the processing image worker).
   */
  private async probePhoto({ key }: ProbeInput): Promise<MediaMetadata> {
    const { probeTimeoutMs, maxImagePixels } = this.settings;
    const deadline = AbortSignal.timeout(probeTimeoutMs);
    const source = await this.storage.toolInput(key, ttlSeconds(probeTimeoutMs));
    const work = isUrl(source) ? await WorkFolder.create() : undefined;
    try {
      const path = work ? await work.download(this.storage, key, 'photo', deadline) : source;
      const header = await untilAborted(
        sharp(path, { limitInputPixels: maxImagePixels }).metadata(),
        deadline,
      ).catch((error: unknown) => {
        throw deadline.aborted ? error : photoFailure(error, maxImagePixels);
      });
      return photoMetadata(header, maxImagePixels);
    } catch (error) {
      if (deadline.aborted && !(error instanceof MediaContentRefusal)) {
        throw new MediaContentRefusal(`the photo could not be read within ${probeTimeoutMs} ms`);
      }
      throw error;
    } finally {
      await work
        ?.remove()
        .catch((error: Error) => this.logger.warn(`probe folder not removed: ${error.message}`));
    }
  }
}

/**
 * ffprobe's own words for the client, e.g. `moov atom not found; Invalid data found when processing input`,
 * without the demuxer's `[mov,mp4,… @ 0x…]` prefix or the input's path or presigned URL.
 */
function ffprobeReason(stderr: string, url: string): string {
  const lines = stderr
    .split('\n')
    .map((line) =>
      line
        .split(url)
        .join('')
        .replace(/^\[[^\]]*\]\s*/, '')
        .replace(/^:\s*/, '')
        .trim(),
    )
    .filter(Boolean);
  return [...new Set(lines)].join('; ').slice(0, 300);
}

/** sharp's refusal of a header, as a reason for the client. */
function photoFailure(error: unknown, maxImagePixels: number): MediaContentRefusal {
  const message = (error as Error).message ?? String(error);
  if (/pixel limit/i.test(message)) {
    return new MediaContentRefusal(
      `the photo has more than the ${maxImagePixels} pixels allowed (MAX_IMAGE_PIXELS)`,
    );
  }
  return new MediaContentRefusal(`the photo cannot be read: ${message.split('\n')[0]}`);
}

/** The promise, or a rejection once `signal` aborts (the work behind the promise goes on unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function isUrl(source: string): boolean {
  return /^https?:\/\//.test(source);
}

/** A local path as a `file:` URL, so no part of it can read as another protocol. */
function localUrl(source: string): string {
  return isUrl(source) ? source : `file:${source}`;
}

/** A presigned URL outlives the probe that reads it. */
function ttlSeconds(timeoutMs: number): number {
  return Math.ceil(timeoutMs / 1000) + 60;
}
