import request from 'supertest';
import { tusDataKey } from '../../src/chunk/tus/tus-file.store';
import { ExpirySweeper } from '../../src/sweeper/expiry-sweeper.service';
import { createTusUpload, OCTETS, TUS } from '../chunk/tus-support';
import { assemblyKeys } from '../support/stored-objects';
import { createTestApp } from '../support/test-app';
import { registerUser } from '../support/users';

const EXPIRY_S = 60;

// Its own file: passport's strategy registry is process-wide, so two apps in one file share the last one's.
describe('Expiry sweeper after a restart', () => {
  it('expires an upload that no instance holds (idle across a restart), idempotently', async () => {
    const first = await createTestApp({ env: { UPLOAD_EXPIRY: String(EXPIRY_S) } });
    const bob = await registerUser(first.url, 'bob');
    const id = await createTusUpload(first.url, bob.auth, 1000);
    await request(first.url)
      .patch(`/api/tus/${id}`)
      .set({ ...bob.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send(Buffer.alloc(10))
      .expect(204);
    await first.stop();
    const second = await createTestApp({
      dbName: first.dbName,
      uploadDir: first.uploadDir,
      env: { UPLOAD_EXPIRY: String(EXPIRY_S) },
    });
    try {
      const later = new Date(Date.now() + (EXPIRY_S + 10) * 1000);
      const restarted = second.app.get(ExpirySweeper);
      expect((await restarted.sweep(later)).expired).toBe(1);
      expect((await restarted.sweep(later)).expired).toBe(0);
      const expired = await second.connection.collection('media_uploads').findOne({ uploadId: id });
      expect(expired).toMatchObject({ status: 'expired' });
      expect(await assemblyKeys(second, tusDataKey(id))).toEqual([]);
      const progress = await request(second.url).get(`/api/upload/progress/${id}`).set(bob.auth).expect(200);
      expect(progress.body).toMatchObject({ status: 'expired', reason: 'No activity for 1 min' });
    } finally {
      await second.close();
    }
  });
});
