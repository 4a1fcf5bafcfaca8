import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import request from 'supertest';
import { findFreePort } from '../../src/embedded/free-port';
import { TEST_JWT_SECRET, testDatabaseUri, uniqueDbName } from './test-app';
import { bucketFor, removeSharedBucket, sharedBucketEnv, testStorage } from './test-storage';

const ROOT = resolve(__dirname, '../..');

/** The service as it ships (src/main.ts), in a child process that the test can kill -9. */
export class ChildApp {
  private child?: ChildProcess;
  private output = '';

  constructor(
    readonly url: string,
    /** Added to this process's environment; `undefined` removes an inherited variable. */
    private readonly env: Record<string, string | undefined>,
    /** The app's upload folder, and a scratch folder for the test's own files. */
    readonly uploadDir = '',
    readonly workDir = '',
    readonly dbName = '',
    /** The bucket it stores on in the e2e-s3 project (named after the database it uses), else undefined. */
    readonly bucket?: string,
  ) {}

  /**
   * A child app on a free loopback port with its own database, upload folder and scratch folder. In the e2e-s3
   * project it stores on the bucket of the database it uses (MONGODB_DB or its own), as createTestApp does, so it
   * shares its bytes with a TestApp on the same database.
   */
  static async create(prefix: string, overrides: Record<string, string | undefined> = {}): Promise<ChildApp> {
    const uploadDir = await mkdtemp(join(tmpdir(), `${prefix}-uploads-`));
    const workDir = await mkdtemp(join(tmpdir(), `${prefix}-work-`));
    const port = await findFreePort();
    const dbName = uniqueDbName();
    const onS3 = testStorage() === 's3' && overrides.STORAGE_DRIVER === undefined;
    const bucket = onS3 ? bucketFor(overrides.MONGODB_DB ?? dbName) : undefined;
    const storageEnv = bucket ? await sharedBucketEnv(bucket) : {};
    const env = {
      NODE_ENV: 'test',
      MONGODB_URI: testDatabaseUri(),
      MONGODB_DB: dbName,
      UPLOAD_DIR: uploadDir,
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MIN_FREE_DISK_BYTES: '0',
      ...storageEnv,
      ...overrides,
    };
    return new ChildApp(`http://127.0.0.1:${port}`, env, uploadDir, workDir, dbName, bucket);
  }

  /** The app's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the app, drops its database and removes its folders (and its bucket, unless another app's). */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.dbName) {
      const connection = await mongoose
        .createConnection(testDatabaseUri(), { dbName: this.dbName })
        .asPromise();
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    }
    for (const dir of [this.uploadDir, this.workDir])
      if (dir) await rm(dir, { recursive: true, force: true });
    if (this.bucket && this.bucket === bucketFor(this.dbName)) await removeSharedBucket(this.bucket);
  }

  async start(): Promise<void> {
    this.output = '';
    this.child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (data: Buffer) => (this.output += data.toString()));
    this.child.stderr?.on('data', (data: Buffer) => (this.output += data.toString()));
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (!isRunning(this.child)) throw new Error(`the app exited at start:\n${this.output}`);
      const up = await request(this.url)
        .get('/api/health')
        .then((res) => res.status === 200)
        .catch(() => false);
      if (up) return;
      await sleep(250);
    }
    throw new Error(`the app did not start within 90 s:\n${this.output}`);
  }

  /** kill -9: no shutdown hooks, no flushing, like a crash or a power cut of the process. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || !isRunning(child)) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !isRunning(child)) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
  }
}

/** A process killed by a signal keeps exitCode null: check both. */
function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
