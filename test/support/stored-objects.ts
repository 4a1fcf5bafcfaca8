import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Assembly, StorageDriver } from '../../src/storage';
import type { TestApp } from './test-app';
import { sharedS3 } from './test-storage';

/** Where an app stores: its bucket in the e2e-s3 project, else its upload folder (a TestApp, a ChildApp). */
export interface StoragePlace {
  uploadDir: string;
  bucket?: string;
}

/** The storage areas that hold an upload's bytes while it is in flight: empty again once every upload has ended. */
const STAGING_AREAS = ['tmp/', 'chunks/', 'tus/'];

/**
 * Every storage key under `prefix` ('' for all), sorted. Local: the files under the upload folder. S3: the bucket's
 * objects plus the keys of its unfinished multipart uploads (a streamed write in flight, or one a crash left), so a
 * test sees what is really billed, not only what the app's own listing shows.
 */
export async function storedKeys(t: StoragePlace, prefix = ''): Promise<string[]> {
  const keys = t.bucket ? await bucketKeys(t.bucket, prefix) : await diskKeys(t.uploadDir, prefix);
  return keys.sort();
}

/**
 * The keys an unfinished upload's bytes are stored under: `key` itself (local: one file) or anything kept beside it
 * (S3: the multipart upload of `key` and its tail objects `<key>.tail/…`). Empty once the upload's bytes are gone.
 */
export async function assemblyKeys(t: StoragePlace, key: string): Promise<string[]> {
  return (await storedKeys(t, key)).filter(
    (found) => found === key || found.startsWith(`${key}.`) || found.startsWith(`${key}/`),
  );
}

/**
 * What is stored under the folder `dir` (no trailing slash), by name relative to it, sorted: on local disk the
 * files; on S3 the objects and unfinished uploads, each assembly's pieces (`<name>.tail/…`) counted as `<name>`. So
 * a seed session reads `['data', 'manifest']` on both drivers.
 */
export async function storedNames(t: StoragePlace, dir: string): Promise<string[]> {
  const names = (await storedKeys(t, `${dir}/`)).map((key) =>
    key.slice(dir.length + 1).replace(/\.tail\/.*$/, ''),
  );
  return [...new Set(names)].sort();
}

/** Whether anything is stored under the folder `dir` (a seed session's `chunks/<user>/<upload>`). */
export async function storedAny(t: StoragePlace, dir: string): Promise<boolean> {
  return (await storedKeys(t, `${dir}/`)).length > 0;
}

/** What uploads left in the staging areas (tmp/, chunks/, tus/): partial files, objects, multipart uploads. */
export async function leftovers(t: StoragePlace): Promise<string[]> {
  return (await storedKeys(t)).filter((key) => STAGING_AREAS.some((area) => key.startsWith(area)));
}

/** The assembly at `key` (a seed session's data or manifest, a tus upload), through the app's storage driver. */
export function assemblyOf(t: TestApp, key: string): Assembly {
  return t.app.get(StorageDriver).assembly(key);
}

/**
 * The keys the app is writing right now through its driver's `openWrite` (a streaming chunk, a single-request
 * upload), from its open to its close: storage-agnostic, where the stored keys are not (on S3 a streamed write is
 * held in memory until a part fills, so the bucket shows nothing yet). A jest spy: restored by jest.restoreAllMocks.
 */
export function watchOpenWrites(t: TestApp): { keys: () => string[] } {
  const driver = t.app.get(StorageDriver);
  const openWrite = driver.openWrite.bind(driver);
  const open = new Map<Writable, string>();
  jest.spyOn(driver, 'openWrite').mockImplementation((key) => {
    const stream = openWrite(key);
    open.set(stream, key);
    stream.once('close', () => open.delete(stream));
    return stream;
  });
  return { keys: () => [...open.values()] };
}

/** A stored object's bytes, read from the app's upload folder or bucket (a TestApp's, a ChildApp's). */
export async function readStored(t: StoragePlace, key: string): Promise<Buffer> {
  if (!t.bucket) return readFile(join(t.uploadDir, key));
  const client = bucketClient();
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

/** The SHA-256 (hex) of a stored object. */
export async function storedSha256(t: StoragePlace, key: string): Promise<string> {
  return createHash('sha256')
    .update(await readStored(t, key))
    .digest('hex');
}

/** Stores `data` at `key` through the app's storage driver (a leftover, as a crashed process would leave it). */
export async function writeStored(t: TestApp, key: string, data: Buffer): Promise<void> {
  await pipeline(Readable.from([data]), t.app.get(StorageDriver).openWrite(key));
}

async function diskKeys(uploadDir: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else found.push(relative(uploadDir, path).split(sep).join('/'));
    }
  };
  await walk(uploadDir);
  return found.filter((key) => key.startsWith(prefix));
}

async function bucketKeys(bucket: string, prefix: string): Promise<string[]> {
  const client = bucketClient();
  try {
    const keys = new Set<string>();
    for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) keys.add(object.Key!);
    }
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      const page = await client.send(
        new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix || undefined, ...markers }),
      );
      for (const upload of page.Uploads ?? []) keys.add(upload.Key!);
      if (!page.IsTruncated) break;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
    return [...keys];
  } finally {
    client.destroy();
  }
}

function bucketClient(): S3Client {
  const server = sharedS3();
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
  });
}
