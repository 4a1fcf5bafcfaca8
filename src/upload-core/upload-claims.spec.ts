import type { Lease } from '../coordination/upload-locks';
import type { MediaRecord, MediaRecordsService } from '../media/media-records.service';
import { LiveUpload, UploadCancelledError } from '../progress/live-upload';
import type { ProgressTracker, StartTracking } from '../progress/progress-tracker.service';
import { QuotaReservation } from '../quota/quota-reservation';
import type { QuotaService } from '../quota/quota.service';
import type { UploadAbandoner } from './upload-abandoner';
import { ClaimRequest, UploadClaims } from './upload-claims';
import type { UploadFinaliser } from './upload-finaliser';

const USER = '65a000000000000000000001';

/** The claim's sequence and its release, with fakes that count what was taken and given back. */
describe('UploadClaims', () => {
  let quotaReleased: jest.Mock;
  let leaseReleased: jest.Mock;
  let leaseLost: AbortController;
  let leaseFree: boolean;
  let records: { create: jest.Mock; findOwned: jest.Mock; end: jest.Mock };
  let started: jest.Mock;
  let live: Map<string, LiveUpload>;
  let finalise: jest.Mock;
  let abandon: jest.Mock;
  let claims: UploadClaims;

  beforeEach(() => {
    quotaReleased = jest.fn();
    leaseReleased = jest.fn(() => Promise.resolve());
    leaseLost = new AbortController();
    leaseFree = true;
    records = {
      create: jest.fn((record: Partial<MediaRecord>) => Promise.resolve({ ...record, status: 'uploading' })),
      findOwned: jest.fn(() => Promise.resolve(null)),
      end: jest.fn(() => Promise.resolve()),
    };
    live = new Map();
    started = jest.fn(async (input: StartTracking) => {
      await Promise.resolve();
      const upload = new LiveUpload(
        { ...input, bytesUploaded: input.bytesUploaded ?? 0, startTime: new Date() },
        () => Promise.resolve(),
      );
      live.set(input.uploadId, upload);
      return upload;
    });
    const tracker = { get: (_user: string, id: string) => live.get(id), start: started };
    const quota = {
      reserve: jest.fn((_user: string, declared: number) => {
        if (declared > 100) return Promise.reject(new Error('quota exceeded'));
        return Promise.resolve(new QuotaReservation(0, 100, declared, { onRelease: quotaReleased }));
      }),
      assertRoom: jest.fn(() => Promise.resolve()),
    };
    const locks = {
      acquire: jest.fn((key: string): Promise<Lease | null> => {
        if (!leaseFree) return Promise.resolve(null);
        return Promise.resolve({ key, signal: leaseLost.signal, release: leaseReleased });
      }),
    };
    finalise = jest.fn(() => Promise.resolve({ record: { status: 'completed' } }));
    abandon = jest.fn(() => Promise.resolve());
    claims = new UploadClaims(
      records as unknown as MediaRecordsService,
      tracker as unknown as ProgressTracker,
      quota as unknown as QuotaService,
      locks,
      { finalise } as unknown as UploadFinaliser,
      { abandon } as unknown as UploadAbandoner,
    );
  });

  const request = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
    userId: USER,
    uploadId: 'upload-1',
    source: 'multipart',
    quota: { reserve: 10 },
    lease: { waitMs: 0, busy: () => new Error('busy') },
    record: { create: { fileType: 'camera', expiresAt: new Date() } },
    progress: { totalBytes: 10, canceller: () => Promise.resolve() },
    ...overrides,
  });

  const releasedOnce = () => {
    expect(quotaReleased).toHaveBeenCalledTimes(1);
    expect(leaseReleased).toHaveBeenCalledTimes(1);
  };

  it('success: quota, lease, record and progress are claimed; finalise releases once, a later release is a no-op', async () => {
    const claim = await claims.claim(request());
    expect(claim.record.status).toBe('uploading');
    expect(claim.reservation.bytes).toBe(10);
    expect(claim.live.uploadId).toBe('upload-1');
    expect(quotaReleased).not.toHaveBeenCalled();
    await claim.finalise({ category: 'photo', stagedKey: 'tmp/x', size: 10, refusal: () => new Error('no') });
    expect(finalise.mock.calls[0][0]).toMatchObject({ userId: USER, uploadId: 'upload-1', live: claim.live });
    await claim.release();
    releasedOnce();
  });

  it('refusal: a failed finalise keeps everything for the adapter; its abandon then releases once', async () => {
    finalise.mockRejectedValueOnce(new Error('not a photo'));
    const claim = await claims.claim(request());
    await expect(
      claim.finalise({ category: 'photo', stagedKey: 'tmp/x', size: 10, refusal: () => new Error('no') }),
    ).rejects.toThrow('not a photo');
    expect(quotaReleased).not.toHaveBeenCalled();
    await claim.abandon({ status: 'failed', reason: 'not a photo', keys: ['tmp/x'] });
    await claim.release();
    expect(abandon.mock.calls[0][0]).toMatchObject({ status: 'failed', live: claim.live, keys: ['tmp/x'] });
    releasedOnce();
  });

  it('cancel: the live signal aborts the stream; the abandon that follows releases once, even racing a release', async () => {
    const claim = await claims.claim(request());
    void claim.live.cancel('Cancelled by the user');
    expect(claim.live.signal.reason).toBeInstanceOf(UploadCancelledError);
    await Promise.all([
      claim.abandon({ status: 'cancelled', reason: 'Cancelled by the user' }),
      claim.release(),
    ]);
    releasedOnce();
  });

  it('stream error: release happens once even when the abandoner fails', async () => {
    abandon.mockRejectedValueOnce(new Error('disk gone'));
    const claim = await claims.claim(request());
    await expect(claim.abandon({ status: 'failed', reason: 'x' })).rejects.toThrow('disk gone');
    await claim.release();
    releasedOnce();
  });

  it('a refused claim holds nothing: busy lease, taken id, progress that cannot start', async () => {
    leaseFree = false;
    await expect(claims.claim(request())).rejects.toThrow('busy');
    expect(quotaReleased).toHaveBeenCalledTimes(1);
    expect(records.create).not.toHaveBeenCalled();

    leaseFree = true;
    records.create.mockRejectedValueOnce(new Error('id taken'));
    await expect(claims.claim(request())).rejects.toThrow('id taken');
    expect(quotaReleased).toHaveBeenCalledTimes(2);
    expect(leaseReleased).toHaveBeenCalledTimes(1);
    expect(records.end).not.toHaveBeenCalled();

    started.mockRejectedValueOnce(new Error('progress down'));
    await expect(claims.claim(request())).rejects.toThrow('progress down');
    expect(records.end).toHaveBeenCalledWith(USER, 'upload-1', 'failed', 'Could not start the upload');
    expect(quotaReleased).toHaveBeenCalledTimes(3);
    expect(leaseReleased).toHaveBeenCalledTimes(2);

    await expect(claims.claim(request({ quota: { reserve: 101 } }))).rejects.toThrow('quota exceeded');
    expect(leaseReleased).toHaveBeenCalledTimes(2);
  });

  it('a loaded record is checked before progress starts; a refusal releases the lease', async () => {
    const load = () => {
      throw new Error('gone');
    };
    const claim = claims.claim(request({ quota: undefined, record: { load } }));
    await expect(claim).rejects.toThrow('gone');
    expect(started).not.toHaveBeenCalled();
    expect(leaseReleased).toHaveBeenCalledTimes(1);
  });

  it('concurrent claims of one upload share one live progress; a later one re-attaches to it', async () => {
    const only = { progress: { totalBytes: null, bytesUploaded: 5, canceller: () => Promise.resolve() } };
    const bare = { quota: undefined, lease: undefined, record: undefined, ...only };
    const [a, b] = await Promise.all([claims.claim(request(bare)), claims.claim(request(bare))]);
    expect(a.live).toBe(b.live);
    expect(started).toHaveBeenCalledTimes(1);
    expect(a.live.bytesUploaded).toBe(5);
    const later = await claims.claim(request({ ...bare, progress: undefined }));
    expect(await later.attach(only.progress)).toEqual({ live: a.live, resumed: true });
  });

  it('the lease lost mid-request shows on `lost`', async () => {
    const claim = await claims.claim(request());
    expect(claim.lost.aborted).toBe(false);
    leaseLost.abort(new Error('lost'));
    expect(claim.lost.aborted).toBe(true);
    await claim.release();
    releasedOnce();
  });
});
