import type { MediaMetadata } from '../media-metadata';

/** A finished upload's bytes, before they become media. */
export interface ProbeInput {
  /** Where the bytes are (the staged key: the finaliser probes before it promotes). */
  key: string;
  /** The type sniffed from the head, e.g. `video/mp4`, and its kind. */
  mimeType: string;
  kind: 'video' | 'photo';
}

/**
 * The content does not hold what its type promises: an MP4 with no video stream (audio only), a video or photo
 * no decoder can open, a file the probe gave up on (time or output limit). The upload is refused like a wrong
 * type (415, bytes deleted); the message says why and ends up in the client's error and the record.
 */
export class MediaContentRefusal extends Error {
  override readonly name = 'MediaContentRefusal';
}

/**
 * Reads what a finished file really holds (ffprobe for video, sharp + EXIF for photos) at finalisation, for every
 * protocol: its metadata goes on the media record, and a file whose streams do not match its type is refused
 * before the client gets its 201. Throws MediaContentRefusal for content; any other error is the service's own
 * (a tool that could not start) and fails the request without refusing the file.
 */
export abstract class MediaProbe {
  abstract probe(input: ProbeInput): Promise<MediaMetadata>;
}
