/**
 * What the service learned about a finished file's content (ffprobe for audio/video, sharp + EXIF for photos),
 * stored on its media record as `metadata`. Every field is null when the file does not have it (a photo has no
 * duration, a video usually no camera model).
 */
export interface MediaMetadata {
  /** The container or image format as the tool names it, e.g. `mov,mp4,m4a,3gp,3g2,mj2`→`mp4`, `matroska`, `jpeg`. */
  container: string | null;
  /** Seconds. */
  duration: number | null;
  /** Pixels as displayed, i.e. after rotation / EXIF orientation. */
  width: number | null;
  height: number | null;
  /** Degrees clockwise a player turns the stored frames (0, 90, 180, 270). */
  rotation: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  /** Bits per second, the whole file. */
  bitrate: number | null;
  /** Frames per second of the video stream. */
  frameRate: number | null;
  /** When the photo or video was taken, from EXIF or the container's creation time. */
  capturedAt: Date | null;
  /** EXIF orientation (1-8) of a photo. */
  orientation: number | null;
  cameraMake: string | null;
  cameraModel: string | null;
}

/** Metadata with every field unknown, for a probe to fill in. */
export function emptyMetadata(): MediaMetadata {
  return {
    container: null,
    duration: null,
    width: null,
    height: null,
    rotation: null,
    videoCodec: null,
    audioCodec: null,
    bitrate: null,
    frameRate: null,
    capturedAt: null,
    orientation: null,
    cameraMake: null,
    cameraModel: null,
  };
}
