/**
 * The image worker: a child process that decodes one image with sharp and writes resized copies of it, so a
 * hostile image can crash only this process and libvips never works on the server's libuv threadpool. Node runs
 * it as it is (type stripping) or compiled; it therefore imports only sharp and Node builtins.
 *
 * Input: one JSON argument, an ImageJob. Output: one JSON line on stdout, an ImageResult. Failure: the reason on
 * stderr, exit code 1.
 */
import sharp from 'sharp';
import { argv, exit, stderr, stdout } from 'node:process';

/** One file to write from the input. */
export interface ImageOutput {
  path: string;
  format: 'webp' | 'jpeg';
  quality: number;
  /** Longest side at most this many pixels (never enlarged); none keeps the full size. */
  maxSide?: number;
}

export interface ImageJob {
  input: string;
  outputs: ImageOutput[];
  /** Larger images (width x height, as their header claims) are refused before they are decoded. */
  limitInputPixels: number;
  /** Turn upright from the EXIF orientation (false for pixels a decoder already turned, e.g. heif-convert's). */
  autoOrient: boolean;
}

export interface ImageSize {
  width: number;
  height: number;
}

export interface ImageResult {
  /** The input's size as displayed (after orientation). */
  source: ImageSize;
  /** Each output's size, in the job's order. */
  outputs: ImageSize[];
}

async function run(job: ImageJob): Promise<ImageResult> {
  sharp.concurrency(1);
  sharp.cache(false);
  // One frame (the first of a GIF or WebP animation); 'error' refuses corrupt data rather than guessing around it.
  const input = sharp(job.input, { limitInputPixels: job.limitInputPixels, failOn: 'error', pages: 1 });
  const metadata = await input.metadata();
  const source = job.autoOrient ? metadata.autoOrient : { width: metadata.width, height: metadata.height };
  const outputs: ImageSize[] = [];
  for (const output of job.outputs) {
    let image = input.clone();
    if (job.autoOrient) image = image.rotate();
    if (output.maxSide) {
      image = image.resize({
        width: output.maxSide,
        height: output.maxSide,
        fit: 'inside',
        withoutEnlargement: true,
      });
    }
    image =
      output.format === 'webp'
        ? image.webp({ quality: output.quality })
        : image.jpeg({ quality: output.quality });
    const info = await image.toFile(output.path);
    outputs.push({ width: info.width, height: info.height });
  }
  return { source, outputs };
}

run(JSON.parse(argv[2] ?? '{}') as ImageJob).then(
  (result) => stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    exit(1);
  },
);
