import { UploadSource, UploadStatus } from '../common/uploads/upload-status';

/** What the progress routes and the SSE stream return (the seed's fields plus `source` and `reason`). */
export interface ProgressView {
  success: true;
  uploadId: string;
  source: UploadSource;
  bytesUploaded: number;
  totalBytes: number | null;
  /** True while `totalBytes` is an upper bound rather than the file's exact size (see docs/architecture.md). */
  totalIsEstimate: boolean;
  percentComplete: number;
  status: UploadStatus;
  speed: number;
  remainingTime: number | null;
  startTime: Date;
  lastUpdateTime: Date;
  completedTime: Date | null;
  reason: string | null;
}

/**
 * Percent with one decimal, never 100 before the upload is really complete. Without a byte total, `fraction`
 * (e.g. chunks received / total chunks) is used when the source knows one.
 */
export function percentOf(
  bytes: number,
  total: number | null,
  status: UploadStatus,
  fraction?: number | null,
): number {
  if (status === 'completed') return 100;
  const ratio = total && total > 0 ? bytes / total : (fraction ?? 0);
  return Math.max(0, Math.min(99.9, Math.floor(ratio * 1000) / 10));
}

export function remainingSeconds(bytes: number, total: number | null, speed: number): number | null {
  if (!total || speed <= 0) return null;
  return Math.max(0, Math.ceil((total - bytes) / speed));
}
