import sharp, { type Metadata } from 'sharp';
import { MediaContentRefusal } from './media-probe';
import { photoMetadata } from './photo-metadata';

const MAX_PIXELS = 268_402_689;

/** sharp's real header metadata of a small JPEG with these EXIF fields (built in memory, no file). */
async function jpegHeader(exif: Record<string, Record<string, string>>, orientation?: number) {
  let image = sharp({ create: { width: 32, height: 16, channels: 3, background: '#808080' } })
    .jpeg()
    .withExif(exif);
  if (orientation) image = image.withMetadata({ orientation });
  return sharp(await image.toBuffer()).metadata();
}

describe('photoMetadata', () => {
  it('reads size as displayed, orientation, camera and capture date from EXIF', async () => {
    const header = await jpegHeader(
      {
        IFD0: { Make: 'Apple', Model: 'iPhone 15 Pro' },
        IFD2: { DateTimeOriginal: '2024:06:01 12:34:56', OffsetTimeOriginal: '+02:00' },
      },
      6,
    );
    expect(photoMetadata(header, MAX_PIXELS)).toEqual({
      container: 'jpeg',
      duration: null,
      width: 16,
      height: 32,
      rotation: null,
      videoCodec: null,
      audioCodec: null,
      bitrate: null,
      frameRate: null,
      capturedAt: new Date('2024-06-01T10:34:56Z'),
      orientation: 6,
      cameraMake: 'Apple',
      cameraModel: 'iPhone 15 Pro',
    });
  });

  it('keeps the stored size for orientations 1-4 and reads a date without offset as written', async () => {
    const header = await jpegHeader({ IFD2: { DateTimeOriginal: '2024:06:01 12:34:56' } }, 3);
    expect(photoMetadata(header, MAX_PIXELS)).toMatchObject({
      width: 32,
      height: 16,
      orientation: 3,
      capturedAt: new Date('2024-06-01T12:34:56Z'),
      cameraMake: null,
    });
  });

  it('refuses a header claiming more pixels than allowed (a decompression bomb)', () => {
    const header = { format: 'png', width: 60000, height: 60000 } as Metadata;
    expect(() => photoMetadata(header, MAX_PIXELS)).toThrow(MediaContentRefusal);
    expect(() => photoMetadata(header, MAX_PIXELS)).toThrow(/60000x60000 pixels/);
  });

  it('refuses a header without a size, and ignores malformed EXIF', () => {
    expect(() => photoMetadata({ format: 'gif' } as Metadata, MAX_PIXELS)).toThrow(/no size/);
    const header = {
      format: 'heif',
      width: 640,
      height: 480,
      exif: Buffer.from('Exif\0\0junk'),
    } as Metadata;
    expect(photoMetadata(header, MAX_PIXELS)).toMatchObject({
      container: 'heif',
      width: 640,
      cameraMake: null,
    });
  });
});
