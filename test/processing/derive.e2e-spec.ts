import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { DERIVED_NAMES, emptyMetadata, type DerivedFile, type DerivedFiles } from '../../src/processing';
import { MediaDeriver, type DeriveSource } from '../../src/processing/derive/media-deriver';
import { moovAfterMdat } from '../../src/processing/derive/mp4-boxes';
import { readWebmHead } from '../../src/processing/derive/webm-head';
import { derivedKey, derivedPrefix, mediaKey, StorageDriver } from '../../src/storage';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from '../s3/s3-test-server';
import { mediaFixtures, type MediaFixtures } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, type TestApp } from '../support/test-app';

const run = promisify(execFile);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

type Fixture = keyof MediaFixtures;
interface Case {
  fixture: Fixture;
  mimeType: string;
  ext: string;
  kind: 'video' | 'photo';
  duration?: number | null;
  /** As the probe reports it (only the WebM remux looks at it). */
  videoCodec?: string;
}

const CASES = {
  jpegExif: { fixture: 'jpegExif', mimeType: 'image/jpeg', ext: 'jpg', kind: 'photo' },
  png: { fixture: 'png', mimeType: 'image/png', ext: 'png', kind: 'photo' },
  gif: { fixture: 'gif', mimeType: 'image/gif', ext: 'gif', kind: 'photo' },
  webp: { fixture: 'webp', mimeType: 'image/webp', ext: 'webp', kind: 'photo' },
  heic: { fixture: 'heic', mimeType: 'image/heic', ext: 'heic', kind: 'photo' },
  bombPng: { fixture: 'bombPng', mimeType: 'image/png', ext: 'png', kind: 'photo' },
  mp4: { fixture: 'mp4', mimeType: 'video/mp4', ext: 'mp4', kind: 'video', duration: 1 },
  mov: { fixture: 'mov', mimeType: 'video/quicktime', ext: 'mov', kind: 'video', duration: 1 },
  webm: { fixture: 'webm', mimeType: 'video/webm', ext: 'webm', kind: 'video', duration: 1 },
  mp4Rotated: { fixture: 'mp4Rotated', mimeType: 'video/mp4', ext: 'mp4', kind: 'video', duration: 2 },
  mp4MoovAtEnd: { fixture: 'mp4MoovAtEnd', mimeType: 'video/mp4', ext: 'mp4', kind: 'video', duration: 2 },
  webmRecorder: {
    fixture: 'webmRecorder',
    mimeType: 'video/webm',
    ext: 'webm',
    kind: 'video',
    duration: null,
  },
  webmH264: {
    fixture: 'webmH264',
    mimeType: 'video/webm',
    ext: 'webm',
    kind: 'video',
    duration: null,
    videoCodec: 'h264',
  },
  truncatedMp4: { fixture: 'truncatedMp4', mimeType: 'video/mp4', ext: 'mp4', kind: 'video', duration: null },
} satisfies Record<string, Case>;

/** The deriver's tests, on the app's storage driver as `start` sets it up (local disk, or S3). */
function deriverSpecs(start: () => Promise<TestApp>, cleanUp: () => Promise<void> = () => Promise.resolve()) {
  let t: TestApp;
  let storage: StorageDriver;
  let deriver: MediaDeriver;
  let fixtures: MediaFixtures;
  let scratch: string;
  let previousTmpdir: string | undefined;
  let uploads = 0;
  const userId = 'u1';

  beforeAll(async () => {
    fixtures = await mediaFixtures();
    t = await start();
    storage = t.app.get(StorageDriver);
    deriver = t.app.get(MediaDeriver);
    // The deriver's work folders go to os.tmpdir(): a private one here, so "none left behind" is exact.
    scratch = await mkdtemp(join(tmpdir(), 'derive-spec-'));
    previousTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
    await t?.close();
    await cleanUp();
    await rm(scratch, { recursive: true, force: true });
  });

  const read = async (key: string) => Buffer.concat(await storage.openRead(key).toArray());

  /** Stores a fixture as a finished upload's original and answers the deriver's input for it. */
  async function original(c: Case): Promise<DeriveSource> {
    const uploadId = `upload-${++uploads}`;
    const storageKey = mediaKey(userId, uploadId, c.ext);
    await storage.ensurePrefix(`media/${userId}`);
    await pipeline(createReadStream(fixtures[c.fixture]), storage.openWrite(storageKey));
    const metadata = { ...emptyMetadata(), duration: c.duration ?? null, videoCodec: c.videoCodec ?? null };
    return { userId, uploadId, storageKey, mimeType: c.mimeType, kind: c.kind, metadata };
  }

  /** Derives from a fixture; checks the original is untouched, every file is stored as described, no work folder is left. */
  async function derive(c: Case): Promise<{ source: DeriveSource; derived: DerivedFiles }> {
    const source = await original(c);
    const before = sha256(await read(source.storageKey));
    const derived = await deriver.derive(source, new AbortController().signal);
    expect(sha256(await read(source.storageKey))).toBe(before);
    const files = Object.values(derived) as DerivedFile[];
    for (const file of files) {
      const bytes = await read(file.key);
      expect(file.size).toBe(bytes.length);
      expect(file.etag).toBe(`"${sha256(bytes)}"`);
    }
    const stored = (await storage.list(derivedPrefix(userId, source.uploadId))).map((o) => o.key).sort();
    expect(stored).toEqual(files.map((file) => file.key).sort());
    expect(await readdir(scratch)).toEqual([]);
    return { source, derived };
  }

  /** The stored image's format and size, decoded with sharp. */
  async function image(file: DerivedFile | undefined) {
    expect(file).toBeDefined();
    const { format, width, height } = await sharp(await read(file!.key)).metadata();
    expect({ width: file!.width, height: file!.height }).toEqual({ width, height });
    return { format, width, height };
  }

  /** Rejects, and leaves no derived file and no work folder. */
  async function expectRefused(c: Case, reason: RegExp) {
    const source = await original(c);
    await expect(deriver.derive(source, new AbortController().signal)).rejects.toThrow(reason);
    expect(await storage.list(derivedPrefix(userId, source.uploadId))).toEqual([]);
    expect(await readdir(scratch)).toEqual([]);
    expect(await storage.stat(source.storageKey)).toBeDefined();
  }

  it('a JPEG with EXIF orientation 6 gets upright (portrait) WebP thumbnails, never enlarged, and nothing else', async () => {
    const { source, derived } = await derive(CASES.jpegExif);
    expect(Object.keys(derived).sort()).toEqual(['thumbnailPreview', 'thumbnailSmall']);
    expect(derived.thumbnailSmall).toMatchObject({
      key: derivedKey(userId, source.uploadId, DERIVED_NAMES.thumbnailSmall),
      mimeType: 'image/webp',
    });
    expect(await image(derived.thumbnailSmall)).toEqual({ format: 'webp', width: 188, height: 250 });
    expect(await image(derived.thumbnailPreview)).toEqual({ format: 'webp', width: 240, height: 320 });
  });

  it.each(['png', 'gif', 'webp'] as const)('a 64x64 %s keeps its size in both thumbnails', async (name) => {
    const { derived } = await derive(CASES[name]);
    expect(await image(derived.thumbnailSmall)).toEqual({ format: 'webp', width: 64, height: 64 });
    expect(await image(derived.thumbnailPreview)).toEqual({ format: 'webp', width: 64, height: 64 });
  });

  it('a HEVC HEIC gets a full-size JPEG rendition (640x480) and thumbnails from it', async () => {
    const { source, derived } = await derive(CASES.heic);
    expect(derived.rendition).toMatchObject({
      key: derivedKey(userId, source.uploadId, 'rendition.jpg'),
      mimeType: 'image/jpeg',
    });
    expect(await image(derived.rendition)).toEqual({ format: 'jpeg', width: 640, height: 480 });
    expect(await image(derived.thumbnailSmall)).toEqual({ format: 'webp', width: 250, height: 188 });
    expect(await image(derived.thumbnailPreview)).toEqual({ format: 'webp', width: 640, height: 480 });
  });

  it('a faststart MP4 (160x120) gets a 160x120 poster and thumbnails, and no rendition', async () => {
    const { source, derived } = await derive(CASES.mp4);
    expect(Object.keys(derived).sort()).toEqual(['poster', 'thumbnailPreview', 'thumbnailSmall']);
    expect(derived.poster).toMatchObject({
      key: derivedKey(userId, source.uploadId, DERIVED_NAMES.poster),
      mimeType: 'image/jpeg',
    });
    expect(await image(derived.poster)).toEqual({ format: 'jpeg', width: 160, height: 120 });
    expect(await image(derived.thumbnailSmall)).toEqual({ format: 'webp', width: 160, height: 120 });
    expect(await image(derived.thumbnailPreview)).toEqual({ format: 'webp', width: 160, height: 120 });
  });

  it("a phone's rotated MP4 gets an upright 240x320 poster", async () => {
    const { derived } = await derive(CASES.mp4Rotated);
    expect(await image(derived.poster)).toEqual({ format: 'jpeg', width: 240, height: 320 });
    expect(await image(derived.thumbnailSmall)).toEqual({ format: 'webp', width: 188, height: 250 });
  });

  it.each([
    ['mp4MoovAtEnd', 'rendition.mp4', 'video/mp4'],
    ['mov', 'rendition.mov', 'video/quicktime'],
  ] as const)(
    '%s (moov after mdat) gets a faststart %s in its own container',
    async (name, file, mimeType) => {
      const before = await read((await original(CASES[name])).storageKey);
      expect(
        await moovAfterMdat(async (s, e) => Promise.resolve(before.subarray(s, e + 1)), before.length),
      ).toBe(true);
      const { source, derived } = await derive(CASES[name]);
      expect(derived.rendition).toMatchObject({ key: derivedKey(userId, source.uploadId, file), mimeType });
      const rendition = await read(derived.rendition!.key);
      const walk = (s: number, e: number) => Promise.resolve(rendition.subarray(s, e + 1));
      expect(await moovAfterMdat(walk, rendition.length)).toBe(false);
      const probe = await ffprobe(await storage.toolInput(derived.rendition!.key, 60));
      expect(probe.duration).toBeCloseTo(CASES[name].duration, 0);
      expect(probe.streams).toBe(name === 'mov' ? 1 : 2);
    },
  );

  it('a MediaRecorder WebM (no duration, no cues) gets a seekable rendition.webm with a duration', async () => {
    const head = await read((await original(CASES.webmRecorder)).storageKey);
    expect(readWebmHead(head)).toEqual({ duration: false, cues: false });
    const { source, derived } = await derive(CASES.webmRecorder);
    expect(derived.rendition).toMatchObject({
      key: derivedKey(userId, source.uploadId, 'rendition.webm'),
      mimeType: 'video/webm',
    });
    expect(readWebmHead(await read(derived.rendition!.key))).toEqual({ duration: true, cues: true });
    const probe = await ffprobe(await storage.toolInput(derived.rendition!.key, 60));
    expect(probe.duration).toBeGreaterThan(1.5);
    expect(probe.streams).toBe(2);
    expect(await image(derived.poster)).toEqual({ format: 'jpeg', width: 320, height: 240 });
  });

  it("Chrome's H.264 WebM recording (no duration, no cues) is remuxed too, through the Matroska muxer", async () => {
    const { derived } = await derive(CASES.webmH264);
    expect(derived.rendition).toMatchObject({ mimeType: 'video/webm' });
    expect(readWebmHead(await read(derived.rendition!.key))).toEqual({ duration: true, cues: true });
    const probe = await ffprobe(await storage.toolInput(derived.rendition!.key, 60));
    expect(probe.duration).toBeGreaterThan(1.5);
    expect(await image(derived.poster)).toEqual({ format: 'jpeg', width: 320, height: 240 });
  });

  it('a WebM written to a file (duration and cues) gets no rendition', async () => {
    const { derived } = await derive(CASES.webm);
    expect(Object.keys(derived).sort()).toEqual(['poster', 'thumbnailPreview', 'thumbnailSmall']);
  });

  it('a truncated MP4 rejects with a clear error, leaving no derived file and no work folder', async () => {
    await expectRefused(CASES.truncatedMp4, /MP4 is truncated/);
  });

  it('a PNG bomb (60000x60000) rejects before it is decoded, leaving nothing behind', async () => {
    await expectRefused(CASES.bombPng, /thumbnails: .*pixel limit/);
  });

  it('a retried attempt replaces what an earlier one stored', async () => {
    const source = await original(CASES.png);
    const stale = derivedKey(userId, source.uploadId, DERIVED_NAMES.thumbnailSmall);
    await storage.ensurePrefix(derivedPrefix(userId, source.uploadId));
    await pipeline(createReadStream(fixtures.gif), storage.openWrite(stale));
    await storage.ensurePrefix(derivedPrefix(userId, source.uploadId));
    const leftover = derivedKey(userId, source.uploadId, 'rendition.mp4');
    await pipeline(createReadStream(fixtures.mp4), storage.openWrite(leftover));
    const derived = await deriver.derive(source, new AbortController().signal);
    expect(derived.thumbnailSmall?.etag).toBe(`"${sha256(await read(stale))}"`);
    expect((await sharp(await read(stale)).metadata()).format).toBe('webp');
    expect(await storage.stat(leftover)).toBeUndefined();
  });

  it('an aborted job rejects and stores nothing', async () => {
    const source = await original(CASES.mp4);
    await expect(deriver.derive(source, AbortSignal.abort())).rejects.toThrow(/aborted/);
    expect(await storage.list(derivedPrefix(userId, source.uploadId))).toEqual([]);
    expect(await readdir(scratch)).toEqual([]);
  });
}

/** Duration (s) and stream count of a stored file, as ffprobe reads it (a path, or a presigned URL). */
async function ffprobe(input: string): Promise<{ duration: number; streams: number }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_format',
    '-show_streams',
    '-of',
    'json',
    input,
  ]);
  const parsed = JSON.parse(stdout) as { format: { duration?: string }; streams: unknown[] };
  return { duration: Number(parsed.format.duration), streams: parsed.streams.length };
}

describe('MediaDeriver: thumbnails, posters and renditions (the app, its storage driver)', () => {
  deriverSpecs(() => createTestApp());
});

describe('MediaDeriver on STORAGE_DRIVER=s3 (real versitygw)', () => {
  let s3: TestS3 | undefined;
  deriverSpecs(
    async () => {
      s3 = await TestS3.start();
      const store = await s3.store();
      return createTestApp({ env: s3AppEnv(s3, store.bucket) });
    },
    async () => {
      await s3?.stop();
    },
  );
});
