import { isTerminal, UploadSource, UploadStatus } from '../common/uploads/upload-status';
import type { ProcessingStatus } from '../processing';

/** Where the background processing of a completed upload stands (thumbnails, poster, rendition). */
export interface ProcessingProgress {
  status: ProcessingStatus;
  /** Why the last attempt failed (kept while a retry is pending). */
  error?: string;
}

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
  /** Set once the upload is completed (`pending` until a worker starts); null before, and on older records. */
  processing: ProcessingProgress | null;
}

/**
 * True when nothing more will change: a terminal upload status, and for a completed upload its processing done or
 * failed. The SSE stream ends after such a view.
 */
export function isFinalView(view: ProgressView): boolean {
  if (!isTerminal(view.status)) return false;
  return view.status !== 'completed' || !view.processing || !isProcessingActive(view.processing.status);
}

function isProcessingActive(status: ProcessingStatus): boolean {
  return status === 'pending' || status === 'running';
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
