import type { ConfigService } from '@nestjs/config';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config';
import type { MediaRecord, MediaRecordsService } from '../media/media-records.service';
import { emptyMetadata, type MediaProbe, type ProcessingQueue } from '../processing';
import type { LiveUpload } from '../progress/live-upload';
import type { ProgressTracker } from '../progress/progress-tracker.service';
import type { UploadProgressService } from '../progress/upload-progress.service';
import { LocalDiskDriver } from '../storage/local-disk.driver';
import { UploadAbandoner } from './upload-abandoner';
import { FinaliseInput, UploadFinaliser } from './upload-finaliser';

const USER = '65a000000000000000000001';
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]);

/** The core's decisions, on the real local disk driver with simple fakes of the records and progress. */
describe('upload core: finalise and abandon', () => {
  let root: string;
  let storage: LocalDiskDriver;
  let record: Partial<MediaRecord> | null;
  let records: { [K in 'findOwned' | 'complete' | 'end' | 'remove']: jest.Mock };
  let live: { setTotal: jest.Mock; setBytes: jest.Mock; finish: jest.Mock };
  let finaliser: UploadFinaliser;
  let abandoner: UploadAbandoner;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'upload-core-'));
    const config = { get: () => ({ uploadDir: root }) } as unknown as ConfigService<AppConfig, true>;
    storage = new LocalDiskDriver(config);
    await storage.onModuleInit();
    record = { source: 'multipart', status: 'uploading' };
    records = {
      findOwned: jest.fn(() => Promise.resolve(record)),
      complete: jest.fn(() => Promise.resolve({ ...record, status: 'completed' })),
      end: jest.fn((_user: string, _id: string, status: string) => {
        record = { ...record, status: status as MediaRecord['status'] };
        return Promise.resolve();
      }),
      remove: jest.fn(() => Promise.resolve()),
    };
    live = { setTotal: jest.fn(), setBytes: jest.fn(), finish: jest.fn(() => Promise.resolve()) };
    const tracker = { get: () => undefined } as unknown as ProgressTracker;
    const progress = { end: jest.fn(), remove: jest.fn() } as unknown as UploadProgressService;
    const mediaRecords = records as unknown as MediaRecordsService;
    abandoner = new UploadAbandoner(storage, mediaRecords, tracker, progress);
    const probe = { probe: jest.fn(() => Promise.resolve(emptyMetadata())) } as unknown as MediaProbe;
    const queue = { enqueue: jest.fn(() => Promise.resolve()) } as unknown as ProcessingQueue;
    finaliser = new UploadFinaliser(storage, mediaRecords, abandoner, probe, queue);
    await writeFile(join(root, 'tmp', 'u.part'), JPEG);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const input = (overrides: Partial<FinaliseInput> = {}): FinaliseInput => ({
    userId: USER,
    uploadId: 'upload-1',
    source: 'multipart',
    category: 'photo',
    stagedKey: 'tmp/u.part',
    size: JPEG.length,
    live: live as unknown as LiveUpload,
    refusal: (category) => new Error(`not a ${category}`),
    ...overrides,
  });

  it('promotes an allowed file, hashing it when the protocol could not, and completes record and progress', async () => {
    const stored = await finaliser.finalise(input());
    expect(stored).toMatchObject({ storageKey: `media/${USER}/upload-1.jpg`, type: { mime: 'image/jpeg' } });
    expect(await readFile(join(root, 'media', USER, 'upload-1.jpg'))).toEqual(JPEG);
    expect(records.complete.mock.calls[0][2]).toMatchObject({
      fileSize: JPEG.length,
      checksumSha256: stored.sha256,
    });
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(live.finish).toHaveBeenCalledWith('completed');
  });

  it('a refused type ends everything failed: the bytes are gone and the protocol error is thrown', async () => {
    const refused = finaliser.finalise(input({ category: 'video' }));
    await expect(refused).rejects.toThrow('not a video');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await readdir(join(root, 'media'))).toEqual([]);
    expect(records.end).toHaveBeenCalledWith(USER, 'upload-1', 'failed', 'not a video');
    expect(records.complete).not.toHaveBeenCalled();
    expect(live.finish).toHaveBeenCalledWith('failed', 'not a video');
  });

  it('when completing the record fails, the promote is undone: the bytes are back where they were staged', async () => {
    records.complete.mockRejectedValueOnce(new Error('database gone'));
    await expect(finaliser.finalise(input())).rejects.toThrow('database gone');
    expect(await readFile(join(root, 'tmp', 'u.part'))).toEqual(JPEG);
    expect(await readdir(join(root, 'media', USER)).catch(() => [])).toEqual([]);
    expect(records.end).not.toHaveBeenCalled();
    expect(live.finish).not.toHaveBeenCalled();
  });

  it('abandon runs every step when one fails, leaves a completed upload alone, and keeps the first end', async () => {
    records.end.mockRejectedValueOnce(new Error('write refused'));
    const abandon = {
      userId: USER,
      uploadId: 'upload-1',
      source: 'multipart' as const,
      keys: ['tmp/u.part'],
    };
    const failed = abandoner.abandon({ ...abandon, status: 'failed', reason: 'x', live: live as never });
    await expect(failed).rejects.toThrow('write refused');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(live.finish).toHaveBeenCalledWith('failed', 'x');

    record = { source: 'multipart', status: 'completed' };
    await writeFile(join(root, 'tmp', 'u.part'), JPEG);
    await abandoner.abandon({ ...abandon, status: 'cancelled', reason: 'y' });
    expect(await readdir(join(root, 'tmp'))).toEqual(['u.part']);
    expect(records.end).toHaveBeenCalledTimes(1);
  });
});
