import type { Response } from 'express';

/** The draft's response fields a cross-origin browser client must be able to read. */
const DRAFT_HEADERS = ['Location', 'Upload-Offset', 'Upload-Complete', 'Upload-Length', 'Upload-Limit'];

/** Adds the draft's fields to what the CORS middleware exposes, on answers to an allowed origin. */
export function exposeDraftHeaders(res: Response): void {
  const exposed = res.getHeader('Access-Control-Expose-Headers');
  if (!res.getHeader('Access-Control-Allow-Origin') || res.headersSent) return;
  res.setHeader('Access-Control-Expose-Headers', [exposed, ...DRAFT_HEADERS].filter(Boolean).join(','));
}
