import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

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
  /** H.264 + AAC, 320x240, 2 s, with `moov` after `mdat` (no faststart), as many cameras and editors write it. */
  mp4MoovAtEnd: string;
  /** A phone's portrait video: 320x240 frames with a 90° display rotation, so it shows as 240x320. */
  mp4Rotated: string;
  /** VP8 + Opus WebM written to a pipe, as MediaRecorder writes it: no duration, no cues. */
  webmRecorder: string;
  /** 320x240 JPEG with EXIF orientation 6 (shows as 240x320), Make/Model and DateTimeOriginal. */
  jpegExif: string;
  /** HEVC HEIC photo, 640x480, as an iPhone writes it (heif-enc; this ffmpeg has no HEIF muxer). */
  heic: string;
  /** AAC only, in an `isom` MP4: sniffs as video/mp4 but holds no video. */
  audioOnlyMp4: string;
  /** H.264 + Opus in a "WebM" without duration or cues, as Chrome's MediaRecorder writes video/webm;codecs=h264. */
  webmH264: string;
  /** mp4Rotated before its rotation: 320x240 frames shown as they are. */
  mp4Upright: string;
  /** The first half of mp4MoovAtEnd: no `moov`, nothing can decode it. */
  truncatedMp4: string;
  /** A PNG whose header claims 60000x60000 pixels (a decompression bomb), a few hundred bytes long. */
  bombPng: string;
}

// Bump the version when a recipe changes, so machines with an old cache regenerate.
const CACHE_DIR = join(tmpdir(), 'media-upload-fixtures-v2');

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15', '-t', '1'];
const IMAGE = ['-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1'];
const X264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast'];

const AV_CLIP = [
  ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440'],
  ...['-t', '2'],
];

/** The fixtures ffmpeg cannot make (EXIF, HEIC, hand-made headers, cut files), each written to `target`. */
const MADE: Record<
  'jpegExif' | 'heic' | 'truncatedMp4' | 'bombPng' | 'mp4Rotated' | 'webmH264',
  { file: string; make: (target: string) => Promise<void> }
> = {
  // ffmpeg's webm muxer refuses H.264: its Matroska output gets the `webm` DocType by hand.
  webmH264: {
    file: 'recorder-h264.webm',
    make: async (target) => {
      const mkv = await ffmpegOutput([
        ...AV_CLIP,
        ...X264,
        '-c:a',
        'libopus',
        '-live',
        '1',
        '-f',
        'matroska',
      ]);
      await writeFile(target, asWebmDocType(mkv));
    },
  },
  // ffmpeg 5.1 cannot write a display rotation (its `rotate` tag is ignored): the track's matrix is set by hand.
  mp4Rotated: {
    file: 'rotated.mp4',
    make: async (target) => {
      const upright = await readFile(await ensureFixture(RECIPES.mp4Upright.file, RECIPES.mp4Upright.args));
      await writeFile(target, withRotation90(upright));
    },
  },
  jpegExif: {
    file: 'exif.jpg',
    make: async (target) => {
      const frame = await ffmpegOutput([
        ...IMAGE.slice(0, 3),
        'testsrc=size=320x240',
        '-frames:v',
        '1',
        '-f',
        'image2pipe',
        '-c:v',
        'png',
      ]);
      await sharp(frame)
        .jpeg({ quality: 90 })
        .withExif({
          IFD0: { Make: 'Apple', Model: 'iPhone 15 Pro' },
          IFD2: { DateTimeOriginal: '2024:06:01 12:34:56' },
        })
        .withMetadata({ orientation: 6 })
        .toFile(target);
    },
  },
  heic: {
    file: 'photo.heic',
    make: async (target) => {
      const png = `${target}.png`;
      try {
        await run('ffmpeg', [
          '-hide_banner',
          '-y',
          '-loglevel',
          'error',
          '-f',
          'lavfi',
          '-i',
          'testsrc=size=640x480',
          '-frames:v',
          '1',
          '-update',
          '1',
          '-f',
          'image2',
          png,
        ]);
        await run('heif-enc', ['-q', '50', '-o', target, png]);
      } finally {
        await rm(png, { force: true });
      }
    },
  },
  truncatedMp4: {
    file: 'truncated.mp4',
    make: async (target) => {
      const whole = await readFile(await ensureFixture(RECIPES.mp4MoovAtEnd.file, RECIPES.mp4MoovAtEnd.args));
      await writeFile(target, whole.subarray(0, Math.floor(whole.length / 2)));
    },
  },
  bombPng: { file: 'bomb.png', make: (target) => writeFile(target, bombPng(60000, 60000)) },
};

// Output format is always given with -f because the temp file name has no meaningful extension.
const RECIPES: Record<Exclude<keyof MediaFixtures, keyof typeof MADE>, { file: string; args: string[] }> = {
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
  mp4MoovAtEnd: { file: 'moov-at-end.mp4', args: [...AV_CLIP, ...X264, '-c:a', 'aac', '-f', 'mp4'] },
  mp4Upright: {
    file: 'upright.mp4',
    args: [...AV_CLIP, ...X264, '-c:a', 'aac', '-movflags', '+faststart', '-f', 'mp4'],
  },
  // Live mode, to a pipe: the muxer writes neither Duration nor Cues, like MediaRecorder.
  webmRecorder: {
    file: 'recorder.webm',
    args: [
      ...AV_CLIP,
      '-c:v',
      'libvpx',
      '-b:v',
      '300k',
      '-c:a',
      'libopus',
      '-live',
      '1',
      '-f',
      'webm',
      'pipe:1',
    ],
  },
  audioOnlyMp4: {
    file: 'audio-only.mp4',
    args: ['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', '-brand', 'isom', '-f', 'mp4'],
  },
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
  const recipes = Object.entries(RECIPES);
  const made = Object.entries(MADE);
  const paths = await Promise.all([
    ...recipes.map(([, { file, args }]) => ensureFixture(file, args)),
    ...made.map(([, { file, make }]) => ensureMade(file, make)),
  ]);
  const names = [...recipes, ...made].map(([name]) => name);
  return Object.fromEntries(names.map((name, i) => [name, paths[i]])) as unknown as MediaFixtures;
}

/** A temp name beside the cached file: workers racing on one fixture each write their own, and rename is atomic. */
function tempName(file: string): string {
  return join(CACHE_DIR, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function ensureMade(file: string, make: (target: string) => Promise<void>): Promise<string> {
  const target = join(CACHE_DIR, file);
  if (await nonEmpty(target)) return target;
  const temp = tempName(file);
  try {
    await make(temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw new Error(`could not make the fixture ${file}: ${(error as Error).message}`);
  }
  return target;
}

/** ffmpeg's stdout for these arguments (small outputs only). */
async function ffmpegOutput(args: string[]): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

async function ensureFixture(file: string, args: string[]): Promise<string> {
  const target = join(CACHE_DIR, file);
  if (await nonEmpty(target)) return target;
  const temp = tempName(file);
  try {
    if (args[args.length - 1] === 'pipe:1') await writeFile(temp, await ffmpegOutput(args.slice(0, -1)));
    else await run('ffmpeg', ['-hide_banner', '-y', '-loglevel', 'error', ...args, temp]);
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

/** A PNG whose header claims `width` x `height` RGB pixels, with one small compressed row of data. */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * The MP4 with its first track's display matrix turned 90° clockwise, as a phone held upright writes it (the
 * matrix of a version-0 `tkhd` box starts 40 bytes after its type). The frames and every size stay as they were.
 */
function withRotation90(mp4: Buffer): Buffer {
  const copy = Buffer.from(mp4);
  const tkhd = copy.indexOf('tkhd', 0, 'latin1');
  if (tkhd < 0 || copy[tkhd + 4] !== 0) throw new Error('no version-0 tkhd box to rotate');
  const matrix = tkhd + 4 + 40;
  const fixed = [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000];
  fixed.forEach((value, i) => copy.writeInt32BE(value, matrix + i * 4));
  return copy;
}

/**
 * A Matroska file relabelled `webm` in its EBML header, as Chrome writes H.264 recordings: the 8-byte DocType
 * `matroska` becomes `webm` and an EBML Void element fills the 4 bytes it frees, so no size around it changes.
 */
function asWebmDocType(mkv: Buffer): Buffer {
  const docType = Buffer.from([0x42, 0x82, 0x88, ...Buffer.from('matroska', 'latin1')]);
  const at = mkv.indexOf(docType);
  if (at < 0 || at > 64) throw new Error('no matroska DocType in the EBML header');
  const webm = Buffer.from([0x42, 0x82, 0x84, ...Buffer.from('webm', 'latin1'), 0xec, 0x82, 0, 0]);
  return Buffer.concat([mkv.subarray(0, at), webm, mkv.subarray(at + docType.length)]);
}
