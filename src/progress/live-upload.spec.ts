import { LiveUpload, UploadCancelledError } from './live-upload';

function makeUpload(overrides: { totalBytes?: number | null; canceller?: () => Promise<void> } = {}) {
  const ended: LiveUpload[] = [];
  const upload = new LiveUpload(
    {
      userId: 'u1',
      uploadId: 'upload-1',
      source: 'multipart',
      totalBytes: overrides.totalBytes === undefined ? 1000 : overrides.totalBytes,
      bytesUploaded: 0,
      startTime: new Date(),
      canceller: overrides.canceller ?? (() => Promise.resolve()),
    },
    (u) => {
      ended.push(u);
      return Promise.resolve();
    },
  );
  return { upload, ended };
}

describe('LiveUpload', () => {
  it('counts bytes and reports percent below 100 until completed', async () => {
    const { upload } = makeUpload();
    upload.add(400);
    upload.add(600);
    expect(upload.view()).toMatchObject({ bytesUploaded: 1000, percentComplete: 99.9, status: 'uploading' });

    await upload.finish('completed');
    expect(upload.view()).toMatchObject({
      percentComplete: 100,
      status: 'completed',
      remainingTime: null,
      speed: 0,
    });
    expect(upload.view().completedTime).toBeInstanceOf(Date);
  });

  it('uses the chunk fraction when no byte total is known, and fills the total on completion', async () => {
    const { upload } = makeUpload({ totalBytes: null });
    upload.add(300);
    upload.setFraction(0.25);
    expect(upload.view()).toMatchObject({ totalBytes: null, percentComplete: 25 });

    await upload.finish('completed');
    expect(upload.view()).toMatchObject({ totalBytes: 300, percentComplete: 100 });
  });

  it('keeps the first terminal status: a later failure cannot overwrite a cancel', async () => {
    const { upload, ended } = makeUpload();
    await upload.cancel('Cancelled by the user');
    await upload.finish('failed', 'client aborted');

    expect(upload.view()).toMatchObject({ status: 'cancelled', reason: 'Cancelled by the user' });
    expect(ended).toHaveLength(1);
  });

  it('aborts its signal with UploadCancelledError before running the owner canceller', async () => {
    const seen: unknown[] = [];
    const { upload } = makeUpload({
      canceller: () => {
        seen.push(upload.signal.aborted, upload.signal.reason);
        return Promise.resolve();
      },
    });
    await upload.cancel('stop');
    expect(seen[0]).toBe(true);
    expect(seen[1]).toBeInstanceOf(UploadCancelledError);
    expect(upload.view().status).toBe('cancelled');
  });

  it('tells subscribers about every change until they unsubscribe', () => {
    const { upload } = makeUpload();
    const views: number[] = [];
    const unsubscribe = upload.subscribe((view) => views.push(view.bytesUploaded));
    upload.add(10);
    upload.add(10);
    unsubscribe();
    upload.add(10);
    expect(views).toEqual([10, 20]);
  });

  it('marks itself dirty on change so the tracker persists it', () => {
    const { upload } = makeUpload();
    upload.dirty = false;
    upload.add(1);
    expect(upload.dirty).toBe(true);
  });
});
