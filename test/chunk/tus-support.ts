import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import request from 'supertest';
import * as tus from 'tus-js-client';

export const TUS = { 'Tus-Resumable': '1.0.0' };
export const OCTETS = { 'Content-Type': 'application/offset+octet-stream' };

/** An Upload-Metadata header value. */
export function tusMetadata(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

const CLIP = { filename: 'clip.mp4', fileType: 'video' };

/** A tus creation request (POST /api/tus), not yet sent: await it, or chain `.expect(…)`. */
export function tusCreation(
  url: string,
  auth: Record<string, string>,
  length: number,
  metadata: Record<string, string> = CLIP,
) {
  return request(url)
    .post('/api/tus')
    .set({ ...auth, ...TUS, 'Upload-Length': String(length), 'Upload-Metadata': tusMetadata(metadata) });
}

/** Creates a tus upload and returns its id (the last segment of Location). */
export async function createTusUpload(
  url: string,
  auth: Record<string, string>,
  length: number,
  metadata: Record<string, string> = CLIP,
): Promise<string> {
  const res = await tusCreation(url, auth, length, metadata).expect(201);
  return String(res.headers.location).split('/').pop() as string;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs a tus-js-client upload to completion; resolves with the upload URL. */
export function runTusClient(options: tus.UploadOptions & { file: tus.Upload['file'] }): Promise<string> {
  const { file, ...rest } = options;
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(file, {
      ...rest,
      onError: (error) => reject(error),
      onSuccess: () => resolve(upload.url as string),
    });
    upload.start();
  });
}
