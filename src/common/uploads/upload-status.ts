/** Lifecycle of every upload, however it arrives. */
export const UPLOAD_STATUSES = ['uploading', 'completed', 'failed', 'cancelled', 'expired'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export const TERMINAL_STATUSES: readonly UploadStatus[] = ['completed', 'failed', 'cancelled', 'expired'];

export function isTerminal(status: UploadStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** How the bytes arrived: single-request multipart, the seed chunk API, tus 1.0, or the IETF resumable-upload draft. */
export const UPLOAD_SOURCES = ['multipart', 'chunked', 'tus', 'ietf'] as const;
export type UploadSource = (typeof UPLOAD_SOURCES)[number];

/** What the client says the media is (the seed's `fileType`). */
export const MEDIA_CATEGORIES = ['video', 'photo', 'camera'] as const;
export type MediaCategory = (typeof MEDIA_CATEGORIES)[number];

/** Client-chosen upload ids (`X-Upload-Id`) and server-generated ones share this shape. */
export const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
