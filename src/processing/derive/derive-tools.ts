import type { AppConfig } from '../../config';
import { runTool, ToolFailure } from '../tools/run-tool';
import type { ImageJob, ImageResult } from './image-worker';

/** What the tools need of the processing config. */
export type DeriveToolSettings = Pick<
  AppConfig['processing'],
  'ffmpegPath' | 'heifConvertPath' | 'jobTimeoutMs' | 'maxImagePixels'
>;

/** ffmpeg and heif-convert print little; the worker one JSON line. More means something is wrong. */
const MAX_STDOUT_BYTES = 64 * 1024;
/** The worker's JS heap: it holds a small job; libvips' pixel memory is bounded by limitInputPixels instead. */
const WORKER_HEAP_MB = 256;

/**
 * The image worker: `image-worker.js` next to this file once compiled (dist), else the TypeScript source, which
 * Node runs with type stripping (tests under ts-jest). `require.resolve` picks whichever exists.
 */
const IMAGE_WORKER = require.resolve('./image-worker');

/**
 * Runs one job's tools: each at low priority, stoppable through the job's signal, and with what is left of the
 * job's time (PROCESSING_JOB_TIMEOUT) as its limit. A failure rejects with an Error naming the step and the
 * tool's own reason.
 */
export class DeriveTools {
  private readonly deadline: number;

  constructor(
    private readonly settings: DeriveToolSettings,
    private readonly signal: AbortSignal,
  ) {
    this.deadline = Date.now() + settings.jobTimeoutMs;
  }

  /** MAX_IMAGE_PIXELS: the largest image (width x height) any step decodes. */
  get maxImagePixels(): number {
    return this.settings.maxImagePixels;
  }

  async ffmpeg(step: string, args: string[]): Promise<void> {
    await this.run(step, this.settings.ffmpegPath, [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      ...args,
    ]);
  }

  /** Decodes a HEIC/HEIF (HEVC) into `output` (PNG), upright: libheif applies the file's rotation and mirroring. */
  async heifConvert(input: string, output: string): Promise<void> {
    await this.run('HEIF decode', this.settings.heifConvertPath, ['--quiet', input, output]);
  }

  /** Runs the image worker on `job` (sharp in a child process, see image-worker.ts). */
  async images(step: string, job: Omit<ImageJob, 'limitInputPixels'>): Promise<ImageResult> {
    const fullJob: ImageJob = { ...job, limitInputPixels: this.settings.maxImagePixels };
    const stdout = await this.run(step, process.execPath, [
      `--max-old-space-size=${WORKER_HEAP_MB}`,
      '--disable-warning=MODULE_TYPELESS_PACKAGE_JSON',
      IMAGE_WORKER,
      JSON.stringify(fullJob),
    ]);
    return JSON.parse(stdout.toString('utf8')) as ImageResult;
  }

  private async run(step: string, command: string, args: string[]): Promise<Buffer> {
    const timeoutMs = this.deadline - Date.now();
    if (timeoutMs <= 0) throw new Error(`${step}: the job ran out of time (PROCESSING_JOB_TIMEOUT)`);
    try {
      return await runTool(command, args, {
        timeoutMs,
        maxStdoutBytes: MAX_STDOUT_BYTES,
        signal: this.signal,
        lowPriority: true,
      });
    } catch (error) {
      if (error instanceof ToolFailure) throw new Error(`${step}: ${error.message}`, { cause: error });
      throw error;
    }
  }
}
