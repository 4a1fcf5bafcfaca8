import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { mediaFixtures, MediaFixtures } from '../support/fixtures';
import { storedKeys } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { FileType, multipart, PROTOCOLS } from './probe-support';

describe('Probe at finalisation (ffprobe, sharp + EXIF)', () => {
  let t: TestApp;
  let user: TestUser;
  let fixtures: MediaFixtures;
  let scratch: string;

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t.url, 'probe');
    fixtures = await mediaFixtures();
    scratch = await mkdtemp(join(tmpdir(), 'probe-e2e-'));
    const ftyp = Buffer.from('0000001c667479706973736f6d0000020069736f6d69736f326d703431', 'hex');
    await writeFile(join(scratch, 'junk.mp4'), Buffer.concat([ftyp, randomBytes(5000)]));
    await writeFile(
      join(scratch, 'zeros.jpg'),
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000)]),
    );
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
    await t.close();
  });

  const record = (uploadId: string) => t.connection.collection('media_uploads').findOne({ uploadId });
  /** The metadata as GET /api/media/:id shows it, after checking the stored record holds the same. */
  async function metadataOf(uploadId: string) {
    const res = await request(t.url).get(`/api/media/${uploadId}`).set(user.auth).expect(200);
    const stored = await record(uploadId);
    expect(stored).toMatchObject({ status: 'completed', processing: { status: expect.any(String) } });
    const { capturedAt, ...rest } = stored?.metadata as { capturedAt: Date | null };
    expect(res.body.media.metadata).toEqual({ ...rest, capturedAt: capturedAt?.toISOString() ?? null });
    return res.body.media.metadata as Record<string, unknown>;
  }

  describe.each(PROTOCOLS)('through %s', (_name, send, okStatus) => {
    const accept = async (path: string, fileType: FileType) => {
      const sent = await send(t, user, path, fileType);
      // Compared with the error text, so a failing run shows why the file was refused.
      expect({ status: sent.status, error: sent.errorText }).toEqual({
        status: okStatus,
        error: expect.any(String),
      });
      return metadataOf(sent.uploadId);
    };

    it("stores a phone's portrait MP4 as displayed: 240x320, rotation 90", async () => {
      expect(await accept(fixtures.mp4Rotated, 'video')).toMatchObject({
        container: 'mp4',
        width: 240,
        height: 320,
        rotation: 90,
        videoCodec: 'h264',
        audioCodec: 'aac',
      });
    });

    it('reads a moov-at-end MP4: duration, codecs, bitrate and frame rate', async () => {
      const metadata = await accept(fixtures.mp4MoovAtEnd, 'camera');
      expect(metadata).toMatchObject({
        container: 'mp4',
        width: 320,
        height: 240,
        rotation: 0,
        videoCodec: 'h264',
        audioCodec: 'aac',
        frameRate: 30,
        bitrate: expect.any(Number),
        orientation: null,
      });
      expect(metadata.duration).toBeCloseTo(2, 1);
    });

    it('accepts a MediaRecorder WebM with an unknown (null) duration: vp8/opus', async () => {
      expect(await accept(fixtures.webmRecorder, 'video')).toMatchObject({
        container: 'webm',
        duration: null,
        videoCodec: 'vp8',
        audioCodec: 'opus',
        width: 320,
        height: 240,
      });
    });

    it('reads a JPEG with EXIF: orientation 6 shown as 240x320, camera and capture date', async () => {
      expect(await accept(fixtures.jpegExif, 'photo')).toMatchObject({
        container: 'jpeg',
        width: 240,
        height: 320,
        orientation: 6,
        cameraMake: 'Apple',
        cameraModel: 'iPhone 15 Pro',
        capturedAt: '2024-06-01T12:34:56.000Z',
        duration: null,
        videoCodec: null,
      });
    });

    it('reads the size of an HEVC HEIC photo from its header', async () => {
      expect(await accept(fixtures.heic, 'camera')).toMatchObject({
        container: 'heif',
        width: 640,
        height: 480,
      });
    });

    const refusals: [string, keyof MediaFixtures, FileType, RegExp][] = [
      ['an audio-only MP4 declared video', 'audioOnlyMp4', 'video', /no video stream/],
      ['a truncated MP4 (no moov)', 'truncatedMp4', 'video', /cannot be opened \(moov atom not found/],
      ['a PNG whose header claims 60000x60000 pixels', 'bombPng', 'photo', /60000x60000|pixels allowed/],
    ];
    it.each(refusals)(
      'refuses %s with 415 and a reason, keeping no bytes',
      async (_what, name, fileType, reason) => {
        const sent = await send(t, user, fixtures[name], fileType);
        expect(sent.status).toBe(415);
        expect(sent.errorText).toContain('UNSUPPORTED_MEDIA_TYPE');
        expect(sent.errorText).toMatch(reason);
        expect(await record(sent.uploadId)).toMatchObject({
          status: 'failed',
          failureReason: expect.stringMatching(reason),
        });
        expect((await storedKeys(t)).filter((key) => key.includes(sent.uploadId))).toEqual([]);
      },
    );
  });

  it('refuses an audio-only MP4 sent as a camera upload too', async () => {
    const sent = await multipart(t, user, fixtures.audioOnlyMp4, 'camera');
    expect(sent.status).toBe(415);
    expect(sent.errorText).toMatch(/no video stream/);
  });

  it.each([
    ['an ftyp header followed by junk', 'junk.mp4', 'video', /moov atom not found/],
    ['a JPEG SOI followed by zeros', 'zeros.jpg', 'photo', /the photo cannot be read/],
  ] as const)('refuses %s with 415 (it sniffs as allowed media)', async (_what, name, fileType, reason) => {
    const sent = await multipart(t, user, join(scratch, name), fileType);
    expect(sent.status).toBe(415);
    expect(sent.errorText).toMatch(reason);
    expect((await storedKeys(t)).filter((key) => key.includes(sent.uploadId))).toEqual([]);
  });

  it('does not leak the stored path into the reason', async () => {
    const sent = await multipart(t, user, fixtures.truncatedMp4, 'video');
    expect(sent.status).toBe(415);
    expect(sent.errorText).not.toMatch(/tmp\/|media\/|file:|https?:/);
  });
});
