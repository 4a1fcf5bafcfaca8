import { readFile } from 'node:fs/promises';
import { S3StorageDriver, StorageDriver } from '../../src/storage';
import { upload } from '../media/support/multipart-upload';
import { filesUnder } from '../security/support/attack-support';
import { mediaFixtures } from './fixtures';
import { leftovers, readStored, storedKeys } from './stored-objects';
import { createTestApp, TestApp } from './test-app';
import { bucketFor, testStorage } from './test-storage';
import { registerUser } from './users';

/** Runs in both e2e projects: proves each spec in e2e-s3 really stores on S3, and e2e on local disk. */
describe('createTestApp stores where its Jest project says (TEST_STORAGE)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("stores an upload's bytes on local disk in e2e, in the app's own bucket in e2e-s3, and nowhere else", async () => {
    const alice = await registerUser(t.url, 'alice');
    const jpeg = await readFile((await mediaFixtures()).jpeg);
    const res = await upload(t.url, {
      parts: [
        { name: 'fileType', value: 'photo' },
        { name: 'file', filename: 'a.jpg', data: jpeg },
      ],
      headers: { ...alice.auth, 'X-Upload-Id': 'where-0001' },
    });
    expect(res.status).toBe(201);

    const key = `media/${alice.id}/where-0001.jpg`;
    expect(t.storage).toBe(testStorage());
    expect(await storedKeys(t)).toEqual([key]);
    expect((await readStored(t, key)).equals(jpeg)).toBe(true);
    expect(await leftovers(t)).toEqual([]);
    const onDisk = await filesUnder(t.uploadDir);
    if (testStorage() === 's3') {
      expect(t.app.get(StorageDriver)).toBeInstanceOf(S3StorageDriver);
      expect(t.bucket).toBe(bucketFor(t.dbName));
      expect(onDisk.filter((file) => file.startsWith('media/'))).toEqual([]);
    } else {
      expect(t.bucket).toBeUndefined();
      expect(onDisk).toContain(key);
    }
  });
});
