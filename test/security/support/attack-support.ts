import { createHmac } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import request from 'supertest';
import { storedKeys } from '../../support/stored-objects';
import { TEST_JWT_SECRET, TestApp } from '../../support/test-app';
import { processingSettled } from '../../support/processing';

/** Collections whose documents an attack must leave exactly as they were. */
const COLLECTIONS = ['users', 'media_uploads', 'upload_progress', 'chunk_sessions', 'tus_uploads'];

/** Every file under the upload folder (relative paths), sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else found.push(relative(dir, path));
    }
  };
  await walk(dir);
  return found.sort();
}

/** What is stored (disk or bucket) and in the database: taken before and after an attack, which must change neither. */
export async function snapshot(
  t: TestApp,
  options: { ignoreEnded?: boolean } = {},
): Promise<{ files: string[]; documents: Record<string, string> }> {
  await processingSettled(t);
  const documents: Record<string, string> = {};
  // A refused upload may keep a `failed` record as an audit trail; `ignoreEnded` compares only the live state.
  const filter = options.ignoreEnded ? { status: { $nin: ['failed', 'cancelled'] } } : {};
  for (const name of COLLECTIONS) {
    const docs = await t.connection.collection(name).find(filter).sort({ _id: 1 }).toArray();
    documents[name] = JSON.stringify(name === 'upload_progress' ? docs.map(withoutTickBookkeeping) : docs);
  }
  return { files: await storedKeys(t), documents };
}

/**
 * An in-flight upload's progress record as far as a request could change it: the progress tick of other uploads
 * rewrites its `lastUpdateTime` and fills fields the first write left out with null whenever it runs, which is
 * bookkeeping, not a change.
 */
function withoutTickBookkeeping(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(doc).filter(([field, value]) => field !== 'lastUpdateTime' && value !== null),
  );
}

/**
 * Asserts the state is back to `before`. Cleanup may finish a moment after the response (the error answer goes out
 * first), so it is polled for up to 2 s before the final comparison.
 */
export async function expectUnchanged(
  t: TestApp,
  before: Awaited<ReturnType<typeof snapshot>>,
  options: { ignoreEnded?: boolean } = {},
): Promise<void> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    if (JSON.stringify(await snapshot(t, options)) === JSON.stringify(before)) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  expect(await snapshot(t, options)).toEqual(before);
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWT built by hand so every part can be wrong on purpose. */
export function forgeToken(
  payload: object,
  secret = TEST_JWT_SECRET,
  header: object = { alg: 'HS256', typ: 'JWT' },
): string {
  const unsigned = `${b64(header)}.${b64(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** A token with the service's claims for `sub`, valid for `ttlSeconds` (negative: already expired). */
export function claimsFor(sub: string, username: string, ttlSeconds = 600) {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub,
    username,
    iss: 'media-upload-service',
    aud: 'media-upload-clients',
    iat: now - Math.max(0, -ttlSeconds) - 10,
    exp: now + ttlSeconds,
  };
}

/** Checks the service still answers (after an attack that might have crashed or wedged it). */
export async function expectAlive(url: string): Promise<void> {
  const res = await request(url).get('/api/health');
  if (res.status !== 200) throw new Error(`health answered ${res.status}: ${JSON.stringify(res.body)}`);
}
