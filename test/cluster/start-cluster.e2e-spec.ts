import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { findFreePort } from '../../src/embedded/free-port';
import { mediaFixtures } from '../support/fixtures';
import { childProcesses, isProcessRunning } from '../support/processes';
import { registerUser } from '../support/users';

const ROOT = resolve(__dirname, '../..');
/** The first run on a fresh machine builds FerretDB and versitygw (minutes); later runs start in seconds. */
const STARTUP_TIMEOUT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 60_000;
const ENTRY = 'src/cluster/start-cluster.ts';

/** The launcher (from source, so it runs the service from source too) as a child of the test, like a user's shell. */
class Launcher {
  output = '';
  urls: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
  ) {
    child.stdout?.on('data', (data: Buffer) => (this.output += data.toString()));
    child.stderr?.on('data', (data: Buffer) => (this.output += data.toString()));
  }

  /** Starts two instances on a free PORT and PORT+1 and resolves once they printed their URLs. */
  static async start(env: NodeJS.ProcessEnv = {}): Promise<Launcher> {
    const dataDir = await mkdtemp(join(tmpdir(), 'media-upload-cluster-'));
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      CLUSTER_INSTANCES: '2',
      CLUSTER_DATA_DIR: dataDir,
      PORT: String(await twoFreePorts()),
      LOG_LEVEL: 'warn',
      MIN_FREE_DISK_BYTES: '0',
      ...env,
    };
    // The launcher generates the shared secret itself.
    delete childEnv.JWT_SECRET;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ENTRY], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const launcher = new Launcher(child, dataDir);
    launcher.urls = await launcher.readyUrls();
    return launcher;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit code, or 'timeout'. */
  exited(timeoutMs = STOP_TIMEOUT_MS): Promise<number | null | 'timeout'> {
    if (!this.running) return Promise.resolve(this.child.exitCode);
    const exit = new Promise<number | null>((done) => this.child.once('exit', (code) => done(code)));
    return Promise.race([exit, sleep(timeoutMs, 'timeout' as const, { ref: false })]);
  }

  /** After a failure only: SIGKILL, and the tied children follow through their watchdogs. */
  async dispose(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await rm(this.dataDir, { recursive: true, force: true });
  }

  private async readyUrls(): Promise<string[]> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!this.output.includes('Press Ctrl-C to stop everything')) {
      if (!this.running || Date.now() > deadline) {
        throw new Error(`the cluster did not start:\n${this.output.slice(-4000)}`);
      }
      await sleep(100);
    }
    return [...this.output.matchAll(/\[cluster\] +api-\d+: (http:\/\/\S+)/g)].map((match) => match[1]);
  }
}

describe('npm run start:cluster (S3 storage)', () => {
  let cluster: Launcher;
  let urls: string[];

  beforeAll(async () => {
    cluster = await Launcher.start();
    urls = cluster.urls;
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => cluster?.dispose());

  it('prints one URL per instance on PORT and PORT+1, each answering /api/health', async () => {
    expect(urls).toHaveLength(2);
    const [first, second] = urls.map((url) => Number(new URL(url).port));
    expect(second).toBe(first + 1);
    for (const url of urls) await request(url).get('/api/health').expect(200);
  });

  it('shares the database and JWT secret: register on instance 1, log in on instance 2, use the token on 1', async () => {
    const user = await registerUser(urls[0], 'cluster');
    const login = await request(urls[1])
      .post('/api/auth/login')
      .send({ login: user.username, password: user.password })
      .expect(200);
    const token = (login.body as { accessToken: string }).accessToken;
    const me = await request(urls[0]).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(me.body).toMatchObject({ user: { id: user.id, username: user.username } });
  });

  it('shares storage: an image uploaded on instance 1 is served by instance 2, its bytes in the S3 bucket', async () => {
    const jpeg = await readFile((await mediaFixtures()).jpeg);
    const user = await registerUser(urls[0], 'uploader');
    const upload = await request(urls[0])
      .post('/api/upload/media')
      .set(user.auth)
      .field('fileType', 'photo')
      .attach('file', jpeg, { filename: 'still.jpg', contentType: 'image/jpeg' })
      .expect(201);
    const { uploadId } = upload.body as { uploadId: string };
    const content = await request(urls[1])
      .get(`/api/media/${uploadId}/content`)
      .set(user.auth)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect((content.body as Buffer).equals(jpeg)).toBe(true);
    // versitygw's posix backend keeps each object as a file under <data>/<bucket>/.
    expect(await filesWithContent(join(cluster.dataDir, 's3', 'media-uploads'), jpeg)).toHaveLength(1);
  });

  it(
    'SIGTERM stops every server and instance it started and exits 0',
    async () => {
      const children = childProcesses(cluster.child.pid!);
      expect(children.map((child) => child.comm)).toEqual(
        expect.arrayContaining(['ferretdb', 'redis-server', 'versitygw']),
      );
      expect(children).toHaveLength(5); // the three servers and the two instances
      cluster.child.kill('SIGTERM');
      expect(await cluster.exited()).toBe(0);
      expect(children.filter((child) => isProcessRunning(child.pid))).toEqual([]);
      // Instances stop before the servers they depend on.
      expect(cluster.output.indexOf('Stopped embedded S3 server')).toBeGreaterThan(
        cluster.output.indexOf('SIGTERM received'),
      );
    },
    STOP_TIMEOUT_MS + 10_000,
  );
});

describe('npm run start:cluster (CLUSTER_STORAGE=local) when an instance dies', () => {
  let cluster: Launcher;

  beforeAll(async () => {
    cluster = await Launcher.start({ CLUSTER_STORAGE: 'local' });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => cluster?.dispose());

  it(
    'stops everything and exits 1 with one line naming the instance',
    async () => {
      const children = childProcesses(cluster.child.pid!);
      expect(children.map((child) => child.comm)).not.toContain('versitygw');
      expect(children).toHaveLength(4); // database, Redis and the two instances
      const second = children.find((child) =>
        environOf(child.pid).includes(`PORT=${new URL(cluster.urls[1]).port}`),
      );
      process.kill(second!.pid, 'SIGKILL');
      expect(await cluster.exited()).toBe(1);
      expect(cluster.output).toContain(
        `[cluster] api-2 (${cluster.urls[1]}) exited unexpectedly (signal SIGKILL)`,
      );
      expect(children.filter((child) => isProcessRunning(child.pid))).toEqual([]);
    },
    STOP_TIMEOUT_MS + 10_000,
  );
});

/** The NUL-separated environment of a process (Linux), one `NAME=value` per entry. */
function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** A free port whose next port is free too (the launcher takes PORT and PORT+1). */
async function twoFreePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await findFreePort();
    if (port < 65535 && (await isFree(port + 1))) return port;
  }
  throw new Error('no two consecutive free ports found');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** Files under `dir` (recursively) whose bytes equal `expected`. */
async function filesWithContent(dir: string, expected: Buffer): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const matches: string[] = [];
  for (const entry of entries.filter((item) => item.isFile())) {
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).equals(expected)) matches.push(path);
  }
  return matches;
}
