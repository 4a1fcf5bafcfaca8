import { FfprobeOutput, ffprobeMetadata, rotationOf } from './ffprobe-metadata';
import { MediaContentRefusal } from './media-probe';
// Real `ffprobe -v error -print_format json -show_format -show_streams` output (ffprobe 5.1) of the e2e fixtures
// (test/support/fixtures.ts), so the normaliser is tested against what the tool really prints.
import audioOnlyMp4 from './ffprobe-samples/audio-only-mp4.json';
import clip3gp from './ffprobe-samples/clip-3gp.json';
import clipMkv from './ffprobe-samples/clip-mkv.json';
import moovAtEndMp4 from './ffprobe-samples/moov-at-end-mp4.json';
import recorderWebm from './ffprobe-samples/recorder-webm.json';
import rotatedMp4 from './ffprobe-samples/rotated-mp4.json';

/** A deep copy of a sample, to change one field of it. */
function copy(sample: FfprobeOutput): FfprobeOutput {
  return structuredClone(sample);
}

describe('ffprobeMetadata', () => {
  it('reads a moov-at-end H.264/AAC MP4: container, duration, size, codecs, bitrate, frame rate', () => {
    expect(ffprobeMetadata(moovAtEndMp4, 'video/mp4')).toEqual({
      container: 'mp4',
      duration: 2,
      width: 320,
      height: 240,
      rotation: 0,
      videoCodec: 'h264',
      audioCodec: 'aac',
      bitrate: 130864,
      frameRate: 30,
      capturedAt: null,
      orientation: null,
      cameraMake: null,
      cameraModel: null,
    });
  });

  it("swaps width and height of a phone's portrait video (display matrix -90 = 90 clockwise)", () => {
    expect(ffprobeMetadata(rotatedMp4, 'video/mp4')).toMatchObject({ width: 240, height: 320, rotation: 90 });
  });

  it('answers a null duration and bitrate for a MediaRecorder WebM (no Duration element)', () => {
    expect(ffprobeMetadata(recorderWebm, 'video/webm')).toMatchObject({
      container: 'webm',
      duration: null,
      bitrate: null,
      videoCodec: 'vp8',
      audioCodec: 'opus',
      width: 320,
      height: 240,
      frameRate: 30,
    });
  });

  it('names the container from the sniffed type (3GP, Matroska), else from ffprobe', () => {
    expect(ffprobeMetadata(clip3gp, 'video/3gpp')).toMatchObject({
      container: '3gp',
      videoCodec: 'h263',
      audioCodec: null,
    });
    expect(ffprobeMetadata(clipMkv, 'video/x-matroska')).toMatchObject({
      container: 'matroska',
      duration: 1,
    });
    expect(ffprobeMetadata(moovAtEndMp4, 'video/unknown')).toMatchObject({ container: 'mp4' });
    expect(ffprobeMetadata(clipMkv, 'video/unknown')).toMatchObject({ container: 'matroska' });
  });

  it('falls back to the video stream duration and r_frame_rate, and answers null for 0/0', () => {
    const sample = copy(moovAtEndMp4);
    delete sample.format!.duration;
    sample.streams![0].avg_frame_rate = '0/0';
    sample.streams![0].r_frame_rate = '30000/1001';
    expect(ffprobeMetadata(sample, 'video/mp4')).toMatchObject({ duration: 2, frameRate: 29.97 });
    sample.streams![0].r_frame_rate = '0/0';
    expect(ffprobeMetadata(sample, 'video/mp4').frameRate).toBeNull();
  });

  it('applies a non-square pixel aspect ratio to the displayed width', () => {
    const sample = copy(moovAtEndMp4);
    sample.streams![0].sample_aspect_ratio = '4:3';
    expect(ffprobeMetadata(sample, 'video/mp4')).toMatchObject({ width: 427, height: 240 });
  });

  it("reads the capture date: Apple's creationdate first, then creation_time; a zero date is none", () => {
    const sample = copy(moovAtEndMp4);
    sample.format!.tags = { creation_time: '2024-06-01T10:00:00.000000Z' };
    expect(ffprobeMetadata(sample, 'video/mp4').capturedAt).toEqual(new Date('2024-06-01T10:00:00Z'));
    sample.format!.tags['com.apple.quicktime.creationdate'] = '2024-06-01T12:34:56+0200';
    expect(ffprobeMetadata(sample, 'video/mp4').capturedAt).toEqual(new Date('2024-06-01T10:34:56Z'));
    sample.format!.tags = { creation_time: '1970-01-01T00:00:00.000000Z' };
    expect(ffprobeMetadata(sample, 'video/mp4').capturedAt).toBeNull();
  });

  it('ignores cover art (an attached picture) when looking for the video', () => {
    const sample = copy(audioOnlyMp4);
    sample.streams!.push({
      codec_type: 'video',
      codec_name: 'mjpeg',
      width: 600,
      height: 600,
      disposition: { attached_pic: 1 },
    });
    expect(() => ffprobeMetadata(sample, 'video/mp4')).toThrow(MediaContentRefusal);
  });

  it('refuses an audio-only MP4', () => {
    expect(() => ffprobeMetadata(audioOnlyMp4, 'video/mp4')).toThrow(/no video stream/);
  });

  it('refuses a video stream without a known codec or without a frame size', () => {
    const unknown = copy(moovAtEndMp4);
    delete unknown.streams![0].codec_name;
    expect(() => ffprobeMetadata(unknown, 'video/mp4')).toThrow(/no decoder/);
    const sizeless = copy(moovAtEndMp4);
    sizeless.streams![0].width = 0;
    expect(() => ffprobeMetadata(sizeless, 'video/mp4')).toThrow(/no frame size/);
  });
});

describe('rotationOf', () => {
  it.each([
    [{ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] }, 90],
    [{ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] }, 270],
    [{ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 180 }] }, 180],
    [{ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -180 }] }, 180],
    [{ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -89.9 }] }, 90],
    [{ tags: { rotate: '90' } }, 90],
    [{ tags: { rotate: '270' } }, 270],
    [{ tags: { rotate: 'x' } }, 0],
    [{}, 0],
  ])('%j → %d° clockwise', (stream, expected) => {
    expect(rotationOf(stream)).toBe(expected);
  });
});
