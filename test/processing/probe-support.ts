import { readFile } from 'node:fs/promises';
import * as tus from 'tus-js-client';
import { newFileId, postChunk, split } from '../chunk/seed-support';
import { runTusClient } from '../chunk/tus-support';
import { upload } from '../media/support/multipart-upload';
import type { TestApp } from '../support/test-app';
import type { TestUser } from '../support/users';

export type FileType = 'video' | 'photo' | 'camera';

/** How one protocol's upload ended: its HTTP status on the finishing request, the upload id, the error body. */
export interface Sent {
  status: number;
  uploadId: string;
  /** The JSON error body of a refusal (multipart, seed); tus-js-client keeps the response text. */
  errorText: string;
}

export type Protocol = (t: TestApp, user: TestUser, path: string, fileType: FileType) => Promise<Sent>;

/** POST /api/upload/media, the whole file in one request. */
export const multipart: Protocol = async (t, user, path, fileType) => {
  const uploadId = newFileId('probe');
  const res = await upload(t.url, {
    parts: [
      { name: 'fileType', value: fileType },
      { name: 'file', filename: 'upload.bin', data: { path } },
    ],
    headers: { ...user.auth, 'X-Upload-Id': uploadId },
  });
  return { status: res.status ?? 0, uploadId, errorText: JSON.stringify(res.body) };
};

/** The seed chunk API: two chunks, the last one `completed`. */
export const seedChunks: Protocol = async (t, user, path, fileType) => {
  const fileId = newFileId('probe');
  const [first, last] = split(await readFile(path), 2);
  const started = await postChunk(
    t.url,
    user.token,
    { fileId, chunkIndex: 0, status: 'uploading', fileType },
    first,
  );
  expect(started.status).toBe(200);
  const done = await postChunk(t.url, user.token, { fileId, chunkIndex: 1, status: 'completed' }, last);
  return {
    status: done.status,
    uploadId: started.body.data.uploadId as string,
    errorText: JSON.stringify(done.body),
  };
};

/** tus 1.0 through tus-js-client (no retries: a refusal is final), in two PATCHes. */
export const tusClient: Protocol = async (t, user, path, fileType) => {
  const data = await readFile(path);
  let uploadUrl = '';
  try {
    uploadUrl = await runTusClient({
      file: data,
      endpoint: `${t.url}/api/tus`,
      headers: user.auth,
      chunkSize: Math.ceil(data.length / 2),
      retryDelays: null,
      metadata: { filename: 'upload.bin', fileType },
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH') uploadUrl = req.getURL();
      },
    });
    return { status: 204, uploadId: idOf(uploadUrl), errorText: '' };
  } catch (error) {
    const response = (error as tus.DetailedError).originalResponse;
    if (!response) throw error;
    return { status: response.getStatus(), uploadId: idOf(uploadUrl), errorText: response.getBody() };
  }
};

/** The upload id at the end of a tus upload URL. */
const idOf = (url: string) => url.split('/').pop() ?? '';

/** Each protocol, and the status of its finishing request when the file is accepted. */
export const PROTOCOLS: [string, Protocol, number][] = [
  ['POST /api/upload/media', multipart, 201],
  ['the seed chunk API', seedChunks, 200],
  ['tus (tus-js-client)', tusClient, 204],
];
