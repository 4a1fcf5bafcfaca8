import exifReader from 'exif-reader';
import type { Metadata } from 'sharp';
import { emptyMetadata, MediaMetadata } from '../media-metadata';
import { MediaContentRefusal } from './media-probe';

/** sharp's format names, as stored: `heif` covers HEIC and HEIF, `jpeg`, `png`, `webp`, `gif` are as they are. */
const CONTAINERS = new Set(['jpeg', 'png', 'webp', 'gif', 'heif']);

/**
 * Normalises sharp's header metadata of a photo into MediaMetadata: the size as displayed (EXIF orientations 5-8
 * swap it), the EXIF camera and capture date. Throws MediaContentRefusal when the header claims more pixels
 * than `maxPixels` (a decompression bomb: nothing has been decoded yet) or no size at all.
 */
export function photoMetadata(header: Metadata, maxPixels: number): MediaMetadata {
  const { width, height } = header;
  if (!width || !height) throw new MediaContentRefusal('the photo has no size in its header');
  if (width * height > maxPixels) {
    throw new MediaContentRefusal(
      `the photo claims ${width}x${height} pixels, more than the ${maxPixels} allowed (MAX_IMAGE_PIXELS)`,
    );
  }
  const orientation =
    header.orientation && header.orientation >= 1 && header.orientation <= 8 ? header.orientation : null;
  const turned = orientation !== null && orientation >= 5;
  const exif = readExif(header.exif);
  return {
    ...emptyMetadata(),
    container: CONTAINERS.has(header.format) ? header.format : null,
    width: turned ? height : width,
    height: turned ? width : height,
    orientation,
    capturedAt: captureDate(exif),
    cameraMake: text(exif?.Image?.Make),
    cameraModel: text(exif?.Image?.Model),
  };
}

/** The EXIF block, or undefined when there is none or it is malformed (not a reason to refuse the photo). */
function readExif(buffer: Buffer | undefined): exifReader.Exif | undefined {
  if (!buffer) return undefined;
  try {
    return exifReader(buffer);
  } catch {
    return undefined;
  }
}

/**
 * DateTimeOriginal is the camera's local time without a zone (exif-reader reads it as UTC); OffsetTimeOriginal,
 * when the camera wrote one (`+02:00`), turns it into the real instant.
 */
function captureDate(exif: exifReader.Exif | undefined): Date | null {
  const taken = exif?.Photo?.DateTimeOriginal;
  if (!(taken instanceof Date) || Number.isNaN(taken.getTime())) return null;
  const offset = /^([+-])(\d{2}):(\d{2})$/.exec(String(exif?.Photo?.OffsetTimeOriginal ?? ''));
  if (!offset) return taken;
  const minutes = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
  return new Date(taken.getTime() - minutes * 60_000);
}

/** EXIF strings are NUL-padded by some cameras; empty means unknown. */
function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.replace(/\0+$/, '').trim();
  return trimmed || null;
}
