import { Inject, Injectable } from '@nestjs/common';
import { ERRORS, type Locker } from '@tus/utils';
import { TUS_LOCKER } from '../../coordination';
import { type Held, uploadBusy } from '../../upload-core';

/** The upload's lock, held by one request; `superseded` aborts when a newer request asks for it. */
export interface HeldUpload extends Held {
  readonly superseded: AbortSignal;
}

/**
 * Exclusive access to one IETF-draft upload across instances, through the lock-with-release-requests tus uses
 * (MemoryLocker, or RedisTusLocker with REDIS_URL). The draft's recommended concurrency: a new PATCH, HEAD or DELETE
 * asks the holder to let go; the holder's write stops at once (its stored bytes are kept) and releases, so the
 * newer request proceeds without waiting for a stalled connection to time out.
 */
@Injectable()
export class IetfUploadLock {
  constructor(@Inject(TUS_LOCKER) private readonly locker: Locker) {}

  async hold(uploadId: string): Promise<HeldUpload> {
    const lock = this.locker.newLock(`ietf:${uploadId}`);
    const stop = new AbortController();
    try {
      await lock.lock(new AbortController().signal, () => stop.abort(new Error('superseded')));
    } catch (error) {
      if (error === ERRORS.ERR_LOCK_TIMEOUT) throw uploadBusy(uploadId);
      throw error;
    }
    return { superseded: stop.signal, release: () => lock.unlock() };
  }
}
