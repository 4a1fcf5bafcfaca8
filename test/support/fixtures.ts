import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of tiny real media files generated with ffmpeg. */
export interface MediaFixtures {
  mp4: string;
  mov: string;
  webm: string;
  mkv: string;
  threeGp: string;
  jpeg: string;
  png: string;
  webp: string;
  gif: string;
  /** MP4 with Apple's M4V brand, which file-type reports as m4v. */
  m4v: string;
  /** Audio-only AAC in an M4A container: not an allowed upload. */
  m4a: string;
  /** Still AVIF image: not on the photo allow-list. */
  avif: string;
  // No HEIC: this ffmpeg (5.1) has no HEIF muxer, so sniffer tests use hand-made `ftyp heic` headers instead.
}

// Bump the version when a recipe changes, so machines with an old cache regenerate.
const CACHE_DIR = join(tmpdir(), 'media-upload-fixtures-v1');

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15', '-t', '1'];
const IMAGE = ['-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1'];
const X264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast'];

// Output format is always given with -f because the temp file name has no meaningful extension.
const RECIPES: Record<keyof MediaFixtures, { file: string; args: string[] }> = {
  mp4: { file: 'clip.mp4', args: [...VIDEO, ...X264, '-movflags', '+faststart', '-f', 'mp4'] },
  mov: { file: 'clip.mov', args: [...VIDEO, ...X264, '-f', 'mov'] },
  webm: { file: 'clip.webm', args: [...VIDEO, '-c:v', 'libvpx', '-b:v', '100k', '-f', 'webm'] },
  mkv: { file: 'clip.mkv', args: [...VIDEO, ...X264, '-f', 'matroska'] },
  // H.263 only encodes a few fixed frame sizes; 176x144 (QCIF) is the classic phone one.
  threeGp: {
    file: 'clip.3gp',
    args: ['-f', 'lavfi', '-i', 'testsrc=size=176x144:rate=15', '-t', '1', '-c:v', 'h263', '-f', '3gp'],
  },
  m4v: { file: 'clip.m4v', args: [...VIDEO, ...X264, '-f', 'ipod'] },
  m4a: { file: 'tone.m4a', args: ['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', '-f', 'ipod'] },
  jpeg: { file: 'still.jpg', args: [...IMAGE, '-c:v', 'mjpeg', '-update', '1', '-f', 'image2'] },
  png: { file: 'still.png', args: [...IMAGE, '-c:v', 'png', '-update', '1', '-f', 'image2'] },
  webp: { file: 'still.webp', args: [...IMAGE, '-c:v', 'libwebp', '-f', 'webp'] },
  gif: { file: 'still.gif', args: [...IMAGE, '-f', 'gif'] },
  avif: { file: 'still.avif', args: [...IMAGE, '-c:v', 'libaom-av1', '-still-picture', '1', '-f', 'avif'] },
};

let cached: Promise<MediaFixtures> | undefined;

/** Generates (once per machine, cached in os.tmpdir()/media-upload-fixtures-v1/) tiny real media files with ffmpeg and returns their paths. Safe to call concurrently from several jest workers (write to temp name then rename). */
export function mediaFixtures(): Promise<MediaFixtures> {
  cached ??= generateAll().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function generateAll(): Promise<MediaFixtures> {
  await mkdir(CACHE_DIR, { recursive: true });
  const names = Object.keys(RECIPES) as (keyof MediaFixtures)[];
  const paths = await Promise.all(names.map((name) => ensureFixture(RECIPES[name].file, RECIPES[name].args)));
  return Object.fromEntries(names.map((name, i) => [name, paths[i]])) as unknown as MediaFixtures;
}

async function ensureFixture(file: string, args: string[]): Promise<string> {
  const target = join(CACHE_DIR, file);
  if (await nonEmpty(target)) return target;
  // Workers racing on the same fixture each write their own temp file; rename is atomic, the last one wins.
  const temp = join(CACHE_DIR, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await run('ffmpeg', ['-hide_banner', '-y', '-loglevel', 'error', ...args, temp]);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error('ffmpeg is not installed; the media fixtures need it on PATH');
    throw new Error(`ffmpeg could not generate ${file}: ${(error as Error).message}`);
  }
  return target;
}

async function nonEmpty(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}

/** Writes a file of exactly `size` bytes that begins with a real mp4's bytes and continues with pseudo-random bytes (streamed, never held in memory whole), for size/limit tests. Returns the path. */
export async function largeMp4Like(dir: string, size: number): Promise<string> {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size ${size}`);
  const { mp4 } = await mediaFixtures();
  const head = (await readFile(mp4)).subarray(0, size);
  const path = join(dir, `large-${size}-${randomBytes(4).toString('hex')}.mp4`);
  await pipeline(Readable.from(chunks(head, size)), createWriteStream(path));
  return path;
}

function* chunks(head: Buffer, size: number): Generator<Buffer> {
  const CHUNK = 1024 * 1024;
  yield head;
  // Random rather than zero filler so compression anywhere on the path cannot shrink the upload.
  for (let left = size - head.length; left > 0; left -= CHUNK) yield randomBytes(Math.min(CHUNK, left));
}
