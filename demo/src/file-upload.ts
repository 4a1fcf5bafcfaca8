import { Upload } from 'tus-js-client';
import type { Schemas } from '../../client';
import { randomId, sleep } from './format';
import type { ProgressSnapshot } from './progress-view';
import type { Session } from './session';

export type UploadMethod = 'multipart' | 'tus';

/** A running file upload: a promise for its end, and a way to cancel it. */
export interface FileUploadHandle {
  uploadId: string;
  done: Promise<void>;
  cancel(): Promise<void>;
}

type OnProgress = (progress: ProgressSnapshot, from: 'client' | 'server') => void;

export function categoryOf(file: File): 'photo' | 'video' {
  return file.type.startsWith('image/') ? 'photo' : 'video';
}

/**
 * POST /api/upload/media with XMLHttpRequest (fetch has no upload progress). The upload is named with
 * X-Upload-Id, so the server's own progress can be followed over SSE and the upload cancelled while it streams.
 */
export function uploadMultipart(session: Session, file: File, onProgress: OnProgress): FileUploadHandle {
  const uploadId = randomId('file');
  const xhr = new XMLHttpRequest();
  let cancelled = false;
  const done = new Promise<void>((resolve, reject) => {
    xhr.open('POST', '/api/upload/media');
    for (const [name, value] of Object.entries(session.authHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('X-Upload-Id', uploadId);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      const total = event.lengthComputable ? event.total : null;
      const percent = total ? (event.loaded / total) * 100 : 0;
      // The request body includes multipart framing; the server's view (SSE) replaces this once it starts.
      onProgress(
        { percent: Math.min(percent, 99), loaded: event.loaded, total, speed: 0, eta: null },
        'client',
      );
    });
    xhr.addEventListener('load', () => {
      const body = xhr.response as { message?: string } | null;
      if (xhr.status === 201) resolve();
      else reject(new Error(cancelled ? 'Upload cancelled' : (body?.message ?? `HTTP ${xhr.status}`)));
    });
    xhr.addEventListener('error', () => reject(new Error(cancelled ? 'Upload cancelled' : 'Network error')));
    xhr.addEventListener('abort', () => reject(new Error('Upload cancelled')));
    const form = new FormData();
    form.append('fileType', categoryOf(file)); // fields first: a wrong type is refused at the first bytes
    form.append('title', file.name);
    form.append('file', file, file.name);
    xhr.send(form);
  });
  const events = followServerProgress(session, uploadId, onProgress);
  void done.finally(() => events.close()).catch(() => undefined);
  return {
    uploadId,
    done,
    cancel: async () => {
      cancelled = true;
      // Ask the server first: it stops the stream, deletes the partial file and records `cancelled`. Aborting
      // the request first would look like a dropped connection instead (`failed`).
      await session.api.POST('/api/upload/cancel/{id}', { params: { path: { id: uploadId } } });
      xhr.abort();
    },
  };
}

/** Resumable upload with tus-js-client: survives network errors and page reloads (it remembers the upload URL). */
export function uploadTus(session: Session, file: File, onProgress: OnProgress): FileUploadHandle {
  const started = performance.now();
  const handle: FileUploadHandle = { uploadId: '', done: Promise.resolve(), cancel: () => Promise.resolve() };
  const upload = new Upload(file, {
    endpoint: '/api/tus',
    headers: session.authHeaders(),
    chunkSize: 5 * 1024 * 1024,
    retryDelays: [0, 1000, 3000, 5000],
    removeFingerprintOnSuccess: true,
    metadata: { filename: file.name, filetype: file.type, fileType: categoryOf(file), title: file.name },
    onUploadUrlAvailable: () => {
      handle.uploadId = upload.url?.split('/').pop() ?? '';
    },
    onProgress: (loaded, total) => {
      const seconds = (performance.now() - started) / 1000;
      const speed = seconds > 0 ? loaded / seconds : 0;
      const eta = speed > 0 ? (total - loaded) / speed : null;
      onProgress({ percent: total ? (loaded / total) * 100 : 0, loaded, total, speed, eta }, 'client');
    },
  });
  handle.done = new Promise<void>((resolve, reject) => {
    upload.options.onSuccess = () => resolve();
    upload.options.onError = (error) => reject(error);
  });
  // Termination (DELETE) deletes the partial bytes and records the upload as `cancelled`.
  handle.cancel = () => upload.abort(true);
  void upload.findPreviousUploads().then((previous) => {
    if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
    upload.start();
  });
  return handle;
}

type Progress = Schemas['ProgressResponseDto'];

/**
 * Server-side progress over SSE. EventSource cannot send an Authorization header, so it takes a single-use
 * ticket; the upload's record exists only once the request's headers reached the server, so the ticket is retried.
 */
function followServerProgress(session: Session, uploadId: string, onProgress: OnProgress): { close(): void } {
  let source: EventSource | undefined;
  let closed = false;
  void (async () => {
    for (let attempt = 0; attempt < 20 && !closed; attempt += 1) {
      const { data } = await session.api
        .POST('/api/upload/progress/{id}/events/ticket', { params: { path: { id: uploadId } } })
        .catch(() => ({ data: undefined }));
      if (data && !closed) {
        source = new EventSource(data.eventsUrl);
        source.addEventListener('progress', (event) => {
          const p = JSON.parse((event as MessageEvent<string>).data) as Progress;
          onProgress(
            {
              percent: p.percentComplete,
              loaded: p.bytesUploaded,
              total: p.totalBytes,
              speed: p.speed,
              eta: p.remainingTime,
            },
            'server',
          );
        });
        source.addEventListener('end', () => source?.close());
        source.addEventListener('error', () => source?.close());
        return;
      }
      await sleep(250);
    }
  })();
  return {
    close: () => {
      closed = true;
      source?.close();
    },
  };
}
