import { AsyncLocalStorage } from 'node:async_hooks';
import type { Request, Response } from 'express';
import type { Upload } from '@tus/utils';
import type { MediaRecord } from '../../media';
import type { LiveUpload } from '../../progress';

/**
 * What one tus request knows about its caller and its upload. @tus/server calls the store with nothing but an
 * upload id, and its hooks with a Fetch `Request` it made from ours, so the store and the hooks read the request
 * they serve from here: the Express request and response, and the caller the JWT guard authenticated (never a
 * header a client could send). `TusService.handle` runs @tus/server inside it.
 */
export interface TusRequestContext {
  req: Request;
  /** The Node response @tus/server will write: headers set on it before its answer are kept (Node merges them). */
  res: Response;
  userId: string;
  /** The caller's MediaUpload record, once the request is known to address one of the caller's uploads. */
  record?: MediaRecord;
  /** The progress of the upload whose bytes this request carries (PATCH, creation-with-upload). */
  live?: LiveUpload;
  /** The Upload object @tus/server read for this request; its `creation_date` drives `Upload-Expires`. */
  upload?: Upload;
  /** The upload this request finished: its bytes are in media/ now, and its tus info is gone. */
  finished?: Upload;
  /** Set when this request created an upload, so a failed creation-with-upload can be cleaned up. */
  createdId?: string;
  /** Headers of an answer a hook ended the request with (TusEarlyAnswer), applied by TusJsonServer.write. */
  answerHeaders?: Record<string, string>;
}

const storage = new AsyncLocalStorage<TusRequestContext>();

export function runInTusContext<T>(context: TusRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the tus request being served, if any (undefined for sweeper or cancel calls). */
export function tusContext(): TusRequestContext | undefined {
  return storage.getStore();
}
