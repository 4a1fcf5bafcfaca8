import { emptyMetadata, MediaMetadata } from '../media-metadata';
import { MediaContentRefusal } from './media-probe';

/** Container and stream tags (JSON samples with optional keys type them as possibly undefined). */
type Tags = Record<string, string | undefined>;

/** The parts of `ffprobe -print_format json -show_format -show_streams` the probe reads (absent when unknown). */
export interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: {
    format_name?: string;
    duration?: string;
    bit_rate?: string;
    tags?: Tags;
  };
}

export interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: Tags;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

/** The short container name of each sniffed video type. */
const CONTAINERS: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/x-matroska': 'matroska',
  'video/3gpp': '3gp',
  'video/3gpp2': '3gp',
};

/**
 * Normalises ffprobe's view of a video into MediaMetadata: sizes as displayed (rotation and pixel aspect
 * applied), rates as numbers, unknowns as null. Throws MediaContentRefusal when the file holds no video a player
 * could show: no video stream besides cover art (audio only), or one without a codec or a size.
 */
export function ffprobeMetadata(output: FfprobeOutput, mimeType: string): MediaMetadata {
  const streams = output.streams ?? [];
  // Cover art (an MP4's or MKV's attached picture) is a "video" stream of one frame, not the video.
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  if (!video) throw new MediaContentRefusal('the file has no video stream (audio only?)');
  if (!video.codec_name || video.codec_name === 'none') {
    throw new MediaContentRefusal('the video stream is in a format no decoder here knows');
  }
  if (!video.width || !video.height) throw new MediaContentRefusal('the video stream has no frame size');
  const audio = streams.find((s) => s.codec_type === 'audio');
  const format = output.format ?? {};
  const rotation = rotationOf(video);
  const width = Math.round(video.width * pixelAspect(video.sample_aspect_ratio));
  const turned = rotation === 90 || rotation === 270;
  return {
    ...emptyMetadata(),
    container: CONTAINERS[mimeType] ?? shortFormatName(format.format_name),
    duration: positive(format.duration) ?? positive(video.duration),
    width: turned ? video.height : width,
    height: turned ? width : video.height,
    rotation,
    videoCodec: video.codec_name,
    audioCodec: audio?.codec_name ?? null,
    bitrate: positive(format.bit_rate),
    frameRate: rate(video.avg_frame_rate) ?? rate(video.r_frame_rate),
    capturedAt: captureDate(format.tags ?? {}),
  };
}

/**
 * Degrees clockwise a player turns the frames, 0/90/180/270. ffprobe's display-matrix `rotation` is
 * counter-clockwise (a phone held upright writes -90); the old `rotate` tag is clockwise.
 */
export function rotationOf(stream: FfprobeStream): number {
  const matrix = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const tag = Number(stream.tags?.rotate);
  const clockwise = matrix !== undefined ? -matrix : Number.isFinite(tag) ? tag : 0;
  const quarter = Math.round(clockwise / 90) * 90;
  return ((quarter % 360) + 360) % 360;
}

/** `mov,mp4,m4a,3gp,3g2,mj2` → `mp4`, `matroska,webm` → `matroska`. */
function shortFormatName(name: string | undefined): string | null {
  if (!name) return null;
  const names = name.split(',');
  return names.includes('mp4') ? 'mp4' : names[0];
}

/** A display width factor from `sample_aspect_ratio` (`8:9` on DV; `1:1`, `0:1` or absent means square). */
function pixelAspect(ratio: string | undefined): number {
  const [num, den] = (ratio ?? '').split(':').map(Number);
  return num > 0 && den > 0 ? num / den : 1;
}

/** `30000/1001` → 29.97; `0/0` (unknown) → null. */
function rate(fraction: string | undefined): number | null {
  const [num, den] = (fraction ?? '').split('/').map(Number);
  if (!(num > 0 && den > 0)) return null;
  return Math.round((num / den) * 1000) / 1000;
}

function positive(value: string | undefined): number | null {
  const number = Number(value);
  return value !== undefined && Number.isFinite(number) && number > 0 ? number : null;
}

/** Apple's capture date (local time with its offset) first, then the container's creation time (UTC). */
function captureDate(tags: Tags): Date | null {
  const lower = new Map(Object.entries(tags).map(([key, value]) => [key.toLowerCase(), value]));
  for (const key of ['com.apple.quicktime.creationdate', 'creation_time']) {
    const value = lower.get(key);
    const date = value === undefined ? undefined : new Date(value);
    // A zero timestamp (1904 or 1970) means the camera did not set one.
    if (date && !Number.isNaN(date.getTime()) && date.getUTCFullYear() > 1970) return date;
  }
  return null;
}
