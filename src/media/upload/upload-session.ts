import type { Request } from 'express';
import type { LiveUpload } from '../../progress';
import type { QuotaReservation } from '../../quota';
import type { MediaCategory, SniffedType } from '../mime-sniffer';
import { BodyHead } from './body-framing';
import { MULTIPART_OVERHEAD_BYTES } from './multipart-limits';

/** What the storage engine learned about the one file of the request. */
export interface ReceivedFile {
  type: SniffedType;
  size: number;
  sha256: string;
  originalName?: string;
}

export interface UploadSessionInit {
  userId: string;
  uploadId: string;
  /** Where the file streams to: tmp/, or its final media key (see StorageDriver.promoteCopies). */
  stagedKey: string;
  maxBytes: number;
  live: LiveUpload;
  /** The quota the request holds; grown as an undeclared body streams. */
  reservation?: QuotaReservation;
  /** The request's Content-Length, when declared. */
  declaredLength: number | null;
  /** The multipart boundary of the request's Content-Type. */
  boundary?: string;
}

const sessions = new WeakMap<Request, UploadSession>();

/**
 * The state of one POST /api/upload/media while it runs, shared by the service, the multer storage engine and the
 * canceller. The first failure wins and aborts every stream of the upload; `settled` resolves once the request has
 * cleaned up (or completed), which is what a cancel waits for.
 */
export class UploadSession {
  readonly userId: string;
  readonly uploadId: string;
  /** Where the file streams to; set before the first byte is stored. */
  stagedKey: string;
  readonly maxBytes: number;
  readonly live: LiveUpload;
  readonly reservation?: QuotaReservation;
  readonly declaredLength: number | null;
  readonly boundary?: string;
  /** The body's first bytes, where the file part's offset is looked up (see body-framing.ts). */
  readonly bodyHead = new BodyHead(MULTIPART_OVERHEAD_BYTES);
  /** Text fields parsed so far; read when the file part starts, it is the file's part index. */
  fieldParts = 0;
  /** Rejects with the first failure; never resolves. Raced against multer so a failure answers at once. */
  readonly failed: Promise<never>;
  readonly settled: Promise<void>;
  /** The category the client declared in a field before the file part, if it did. */
  declaredCategory?: MediaCategory;
  file?: ReceivedFile;
  fileStarted = false;
  /** Request body bytes seen so far, when no Content-Length was declared (Node enforces a declared one). */
  bodyBytes = 0;
  /**
   * The storage engine's work on the file part (record update, stream to storage). A failure answers at once, but
   * the upload is abandoned only after this settles: its record update must not race the abandon's (FerretDB v1
   * loses one of two concurrent updates of a document, which left records `uploading`).
   */
  receiving?: Promise<unknown>;

  private readonly controller = new AbortController();
  private firstFailure?: Error;
  private rejectFailed!: (error: Error) => void;
  private resolveSettled!: () => void;

  constructor(init: UploadSessionInit) {
    this.userId = init.userId;
    this.uploadId = init.uploadId;
    this.stagedKey = init.stagedKey;
    this.maxBytes = init.maxBytes;
    this.live = init.live;
    this.reservation = init.reservation;
    this.declaredLength = init.declaredLength;
    this.boundary = init.boundary;
    this.failed = new Promise<never>((_resolve, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined); // observed through `failure` when nobody races it
    this.settled = new Promise<void>((resolve) => (this.resolveSettled = resolve));
    // A cancel (from this instance or relayed from another) fails the upload like any other error.
    this.live.signal.addEventListener('abort', () => this.fail(this.live.signal.reason as Error), {
      once: true,
    });
  }

  /** Aborted on the first failure; every stream of this upload listens to it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get failure(): Error | undefined {
    return this.firstFailure;
  }

  /** Records the first failure and stops the upload's streams; returns the failure that counts. */
  fail(error: Error): Error {
    if (!this.firstFailure) {
      this.firstFailure = error;
      this.controller.abort(error);
      this.rejectFailed(error);
    }
    return this.firstFailure;
  }

  throwIfFailed(): void {
    if (this.firstFailure) throw this.firstFailure;
  }

  settle(): void {
    this.resolveSettled();
  }

  bind(req: Request): this {
    sessions.set(req, this);
    return this;
  }

  static of(req: Request): UploadSession {
    const session = sessions.get(req);
    if (!session) throw new Error('multipart request without an upload session');
    return session;
  }
}
