import { isAbsolute } from 'node:path';
import type { DeriveContext, DeriveSource, MadeFile } from './derive-plan';
import { thumbnailFiles, thumbnailOutputs } from './derive-plan';

const HEIF_TYPES = new Set(['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence']);
const RENDITION = 'rendition.jpg';
const RENDITION_QUALITY = 85;

/**
 * A photo's thumbnails, upright from its EXIF orientation (GIF: the first frame). HEIC/HEIF, which sharp's
 * libvips cannot decode (HEVC) and most browsers cannot show, is decoded by heif-convert first, and also gets a
 * full-size JPEG rendition.
 */
export async function derivePhoto(source: DeriveSource, context: DeriveContext): Promise<MadeFile[]> {
  const { tools, work } = context;
  const original = await localCopy(source, context);
  if (!HEIF_TYPES.has(source.mimeType)) {
    const result = await tools.images('thumbnails', {
      input: original,
      autoOrient: true,
      outputs: thumbnailOutputs(work),
    });
    return thumbnailFiles(result.outputs);
  }

  refuseOversized(source, context.tools.maxImagePixels);
  await tools.heifConvert(original, work.path('decoded.png'));
  // heif-convert numbers its outputs (decoded-1.png, …) when the file holds several images: the first is used.
  const decoded = (await work.files()).find((name) => /^decoded(-\d+)?\.png$/.test(name));
  if (!decoded) throw new Error('HEIF decode: heif-convert wrote no image');
  const result = await tools.images('HEIF rendition', {
    input: work.path(decoded),
    autoOrient: false,
    outputs: [
      { path: work.path(RENDITION), format: 'jpeg', quality: RENDITION_QUALITY },
      ...thumbnailOutputs(work),
    ],
  });
  const [rendition, ...thumbnails] = result.outputs;
  return [
    { field: 'rendition', name: RENDITION, mimeType: 'image/jpeg', ...rendition },
    ...thumbnailFiles(thumbnails),
  ];
}

/** The original as a local file: its own path on local storage, a copy in the work folder on S3. */
async function localCopy(source: DeriveSource, context: DeriveContext): Promise<string> {
  const input = await context.storage.toolInput(source.storageKey, context.inputTtlSeconds);
  if (isAbsolute(input)) return input;
  return context.work.download(context.storage, source.storageKey, 'original', context.signal);
}

/** heif-convert has no pixel limit of ours: the probe's dimensions stop a bomb before it is decoded. */
function refuseOversized(source: DeriveSource, maxPixels: number): void {
  const { width, height } = source.metadata ?? {};
  if (width && height && width * height > maxPixels) {
    throw new Error(`HEIF decode: ${width}x${height} is more than MAX_IMAGE_PIXELS (${maxPixels})`);
  }
}
