import type { StorageDriver } from '../../storage';
import { DERIVED_NAMES } from '../processing-state';
import type { DeriveContext, DeriveSource, MadeFile } from './derive-plan';
import { thumbnailFiles, thumbnailOutputs } from './derive-plan';
import { posterArgs, posterSeekSeconds, remuxArgs } from './ffmpeg-args';
import { moovAfterMdat } from './mp4-boxes';
import { readWebmHead, WEBM_HEAD_BYTES } from './webm-head';

/** A remux that makes the original playable in a browser from the first byte: same streams, same codecs. */
interface RenditionPlan {
  name: string;
  mimeType: string;
  muxer: string;
  faststart: boolean;
}

/**
 * A video's poster frame and the thumbnails made from it, plus a rendition when the original cannot be streamed
 * as it is: an MP4/MOV with its index after the media (faststart remux, keeping the container, so every stream the
 * original holds still fits), a WebM with no duration or cues (written live by MediaRecorder).
 */
export async function deriveVideo(source: DeriveSource, context: DeriveContext): Promise<MadeFile[]> {
  const { storage, tools, work } = context;
  const rendition = await planRendition(storage, source);
  const input = await storage.toolInput(source.storageKey, context.inputTtlSeconds);
  const poster = work.path(DERIVED_NAMES.poster);
  const seek = posterSeekSeconds(source.metadata?.duration);
  await tools.ffmpeg('poster frame', posterArgs(input, source.mimeType, seek, poster));
  // A duration that overstates the video can seek past its last frame: the first one will do then.
  if (!(await work.has(DERIVED_NAMES.poster)) && seek > 0) {
    await tools.ffmpeg('poster frame', posterArgs(input, source.mimeType, 0, poster));
  }
  if (!(await work.has(DERIVED_NAMES.poster)))
    throw new Error('poster frame: the video has no frame to decode');
  const result = await tools.images('thumbnails', {
    input: poster,
    autoOrient: false,
    outputs: thumbnailOutputs(work),
  });
  const made: MadeFile[] = [
    { field: 'poster', name: DERIVED_NAMES.poster, mimeType: 'image/jpeg', ...result.source },
    ...thumbnailFiles(result.outputs),
  ];
  if (rendition) {
    const args = remuxArgs(
      input,
      source.mimeType,
      rendition.muxer,
      rendition.faststart,
      work.path(rendition.name),
    );
    await tools.ffmpeg('rendition', args);
    made.push({ field: 'rendition', name: rendition.name, mimeType: rendition.mimeType });
  }
  return made;
}

async function planRendition(
  storage: StorageDriver,
  source: DeriveSource,
): Promise<RenditionPlan | undefined> {
  const { mimeType, storageKey: key } = source;
  if (mimeType === 'video/mp4' || mimeType === 'video/quicktime') {
    const size = (await storage.stat(key))?.size ?? 0;
    const read = async (start: number, end: number) =>
      Buffer.concat(await storage.openRead(key, { start, end }).toArray());
    if (!(await moovAfterMdat(read, size))) return undefined;
    const mov = mimeType === 'video/quicktime';
    return {
      name: mov ? 'rendition.mov' : 'rendition.mp4',
      mimeType,
      muxer: mov ? 'mov' : 'mp4',
      faststart: true,
    };
  }
  if (mimeType === 'video/webm') {
    const head = readWebmHead(await storage.readHead(key, WEBM_HEAD_BYTES));
    if (head.cues && head.duration && source.metadata?.duration !== null) return undefined;
    // Chrome's MediaRecorder can put H.264 in a "WebM" (video/webm;codecs=h264), which ffmpeg's webm muxer
    // refuses; its Matroska muxer writes the same structure, and browsers that recorded it play it back.
    const webmCodecs = [undefined, null, 'vp8', 'vp9', 'av1'];
    const muxer = webmCodecs.includes(source.metadata?.videoCodec) ? 'webm' : 'matroska';
    return { name: 'rendition.webm', mimeType, muxer, faststart: false };
  }
  return undefined;
}
