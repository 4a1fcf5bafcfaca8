import type { ApiClient } from '../../client';
import { ChunkUploader, type ChunkReply, type ChunkUploaderEvents } from './chunk-uploader';

/** MediaRecorder emits a chunk every TIMESLICE_MS; each one is uploaded while recording continues. */
export const TIMESLICE_MS = 1000;

// Chromium and Firefox record WebM; Safari records MP4. The server sniffs the container from the bytes anyway.
const MIME_TYPES = ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp8', 'video/webm', 'video/mp4'];

function pickMimeType(): string | undefined {
  return MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
}

async function openCamera(): Promise<MediaStream> {
  const video = { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio: true });
  } catch (error) {
    // No microphone (or it was refused): a silent recording is still useful.
    if ((error as DOMException).name === 'NotAllowedError') throw error;
    return navigator.mediaDevices.getUserMedia({ video, audio: false });
  }
}

/** One recording: the camera stream, its MediaRecorder and the uploader its chunks go to. */
export class Recording {
  readonly uploader: ChunkUploader;
  private readonly recorder: MediaRecorder;
  private readonly stopped: Promise<void>;

  private constructor(
    readonly stream: MediaStream,
    api: ApiClient,
    events: ChunkUploaderEvents,
  ) {
    const mimeType = pickMimeType();
    this.recorder = new MediaRecorder(stream, {
      ...(mimeType ? { mimeType } : {}),
      videoBitsPerSecond: 1_000_000,
    });
    this.uploader = new ChunkUploader(
      api,
      { title: `Recording ${new Date().toLocaleString()}`, fileType: 'video' },
      events,
    );
    this.recorder.addEventListener('dataavailable', (event) => this.uploader.push(event.data));
    this.stopped = new Promise((resolve) => this.recorder.addEventListener('stop', () => resolve()));
  }

  static async start(api: ApiClient, events: ChunkUploaderEvents): Promise<Recording> {
    const stream = await openCamera();
    const recording = new Recording(stream, api, events);
    recording.recorder.start(TIMESLICE_MS);
    return recording;
  }

  /** Stops recording; resolves once the last chunk is uploaded and the server assembled the file. */
  async stop(): Promise<ChunkReply> {
    if (this.recorder.state !== 'inactive') this.recorder.stop();
    await this.stopped; // the last dataavailable fires before stop
    this.stream.getTracks().forEach((track) => track.stop());
    return this.uploader.finish();
  }

  /** The whole recording as the browser produced it (for the byte-identical check). */
  blob(): Blob {
    return new Blob(this.uploader.chunks, { type: this.recorder.mimeType });
  }
}
