import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import type { Lease, UploadLocks } from '../coordination';

/**
 * How long an upload's lock outlives an instance that died holding it (kill -9, lost network). A live holder renews
 * it every third of this, so a request may hold it far longer.
 */
export const UPLOAD_LEASE_MS = 15_000;

/** The lock of one upload, the same key for every protocol, so one writer per upload holds across all of them. */
export function uploadLockKey(userId: string, uploadId: string): string {
  return `${userId}:${uploadId}`;
}

/** The upload's lease, or null when another request kept it for `waitMs` (0: one try). */
export function acquireUpload(
  locks: UploadLocks,
  userId: string,
  uploadId: string,
  waitMs: number,
): Promise<Lease | null> {
  return locks.acquire(uploadLockKey(userId, uploadId), { leaseMs: UPLOAD_LEASE_MS, waitMs });
}

/** 503 UPLOAD_BUSY: safe to retry, the request changed nothing another request relies on. */
export function uploadBusy(uploadId: string, lost = false): ApiError {
  const message = lost
    ? 'This instance lost the lock of the upload mid-request (another instance may hold it now); retry'
    : 'Another request of this upload is still running; retry';
  return new ApiError(HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.UPLOAD_BUSY, message, { uploadId });
}
