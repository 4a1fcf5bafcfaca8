import { randomBytes } from 'node:crypto';

/** A server-generated upload id: 128 random bits, URL- and path-safe. */
export function newUploadId(): string {
  return randomBytes(16).toString('base64url');
}
