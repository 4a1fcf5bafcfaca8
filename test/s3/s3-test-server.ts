import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { EnvironmentVariables } from '../../src/config/env.schema';
import { RunningS3Server, S3ObjectStore, startEmbeddedS3Server } from '../../src/storage/s3';
import type { S3StoreOptions } from '../../src/storage/s3';

/** The first start on a fresh machine builds versitygw (~1-5 min): beforeAll hooks get this long. */
export const S3_SETUP_TIMEOUT_MS = 10 * 60_000;

const defaults = new EnvironmentVariables();
const cacheDir = resolve(process.env.EMBEDDED_DB_CACHE_DIR ?? resolve(__dirname, '../../.cache'));

/** A real versitygw for one test file, in a data folder of its own, plus stores on buckets of their own. */
export class TestS3 {
  private constructor(
    public server: RunningS3Server,
    readonly dataDir: string,
    private readonly stores: S3ObjectStore[] = [],
  ) {}

  static async start(): Promise<TestS3> {
    const dataDir = await mkdtemp(join(tmpdir(), 'media-upload-s3-'));
    return new TestS3(await startServer(dataDir), dataDir);
  }

  /** Options for a store on `bucket` of this server. */
  options(bucket: string, overrides: Partial<S3StoreOptions> = {}): S3StoreOptions {
    return {
      endpoint: this.server.endpoint,
      region: this.server.region,
      bucket,
      credentials: this.server.credentials,
      forcePathStyle: true,
      // The shipped defaults, so the memory bound is checked for what runs by default.
      partSizeBytes: defaults.S3_PART_SIZE,
      queueSize: defaults.S3_QUEUE_SIZE,
      ...overrides,
    };
  }

  /** A store on a new bucket (created), closed by `stop`. */
  async store(overrides: Partial<S3StoreOptions> = {}): Promise<S3ObjectStore> {
    const store = new S3ObjectStore(this.options(`test-${randomBytes(6).toString('hex')}`, overrides));
    this.stores.push(store);
    await store.ensureBucket();
    return store;
  }

  /** A plain SDK client on the same server, to check what S3 holds without going through the store. */
  client(): S3Client {
    return new S3Client({
      endpoint: this.server.endpoint,
      region: this.server.region,
      credentials: this.server.credentials,
      forcePathStyle: true,
    });
  }

  async incompleteUploads(bucket: string): Promise<number> {
    const client = this.client();
    try {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return page.Uploads?.length ?? 0;
    } finally {
      client.destroy();
    }
  }

  /** Starts the server again on the same port, data and credentials (after `server.kill()`). */
  async restart(): Promise<void> {
    this.server = await startServer(this.dataDir, this.server);
  }

  async stop(): Promise<void> {
    for (const store of this.stores) store.close();
    await this.server.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

function startServer(dataDir: string, previous?: RunningS3Server): Promise<RunningS3Server> {
  return startEmbeddedS3Server({
    dataDir,
    cacheDir,
    port: previous?.port,
    credentials: previous?.credentials,
    log: () => undefined,
    buildLog: (line) => process.stderr.write(`[test s3] ${line}\n`),
  });
}

/** Random bytes, repeated: a prime length, so no two parts of an object hold the same bytes. */
const PATTERN = randomBytes(1_048_573);

/**
 * `total` bytes in chunks of at most 64 KiB, produced as they are read and without allocating (views of
 * PATTERN), so the memory measured during a write is the store's, not the test source's.
 */
export function patternStream(total: number, chunkSize = 64 * 1024): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const offset = sent % PATTERN.length;
      const size = Math.min(chunkSize, total - sent, PATTERN.length - offset);
      sent += size;
      this.push(PATTERN.subarray(offset, offset + size));
    },
  });
}
