import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import { upload, UploadResult } from '../media/support/multipart-upload';
import { waitFor } from '../media/support/stored-state';
import { readEvents, SseEvent } from '../progress/sse-client';
import type { TestUser } from '../support/users';

/**
 * An ffmpeg that waits while its gate file exists, then runs the real one: FFMPEG_PATH for tests that need a video
 * job to stay `running` (the deriver's poster frame is its first ffmpeg run) until they open the gate.
 */
export class FfmpegGate {
  private constructor(
    readonly path: string,
    private readonly gate: string,
  ) {}

  static async create(dir: string): Promise<FfmpegGate> {
    const gate = join(dir, 'ffmpeg.gate');
    const path = join(dir, 'gated-ffmpeg.sh');
    await writeFile(path, `#!/bin/sh\nwhile [ -e '${gate}' ]; do sleep 0.05; done\nexec ffmpeg "$@"\n`);
    await chmod(path, 0o755);
    return new FfmpegGate(path, gate);
  }

  close(): Promise<void> {
    return writeFile(this.gate, '');
  }

  open(): Promise<void> {
    return rm(this.gate, { force: true });
  }
}

export type Processing = { status: string; error?: string; attempts: number; updatedAt: Date };

interface StoredMedia {
  userId: unknown;
  processing?: Processing;
  derived?: Record<string, { key: string; mimeType: string; size: number }>;
}

export function storedMedia(connection: Connection, uploadId: string): Promise<StoredMedia | null> {
  return connection.collection('media_uploads').findOne<StoredMedia>({ uploadId });
}

/** Waits until the record's processing is `status`; answers the record. */
export function waitForProcessing(
  connection: Connection,
  uploadId: string,
  status: string,
  timeoutMs = 30_000,
): Promise<StoredMedia> {
  return waitFor(
    async () => {
      const record = await storedMedia(connection, uploadId);
      return record?.processing?.status === status ? record : null;
    },
    `processing of ${uploadId} to be ${status}`,
    timeoutMs,
  );
}

/** POST /api/upload/media of a fixture, with a chosen upload id. */
export function uploadFile(
  url: string,
  user: TestUser,
  uploadId: string,
  path: string,
  kind: 'video' | 'photo',
): Promise<UploadResult> {
  const [filename, contentType] = kind === 'video' ? ['clip.mp4', 'video/mp4'] : ['photo.jpg', 'image/jpeg'];
  return upload(url, {
    headers: { ...user.auth, 'X-Upload-Id': uploadId },
    parts: [
      { name: 'fileType', value: kind },
      { name: 'file', filename, contentType, data: { path } },
    ],
  });
}

/**
 * Follows an upload's SSE stream to its end, opening `gate` (the held job) once the stream is connected, and
 * answers every event with the processing status each `progress` event reported, in order.
 */
export async function followProcessing(
  eventsUrl: string,
  gate: FfmpegGate,
): Promise<{ events: SseEvent[]; statuses: (string | undefined)[] }> {
  let opened = false;
  const events = await readEvents(
    eventsUrl,
    () => {
      if (!opened) void gate.open();
      opened = true;
    },
    60_000,
  );
  const statuses = events
    .filter((event) => event.event === 'progress')
    .map((event) => (event.data as { processing?: { status: string } } | undefined)?.processing?.status);
  return { events, statuses };
}
