'use strict';
/* global performance */
/**
 * Single-request uploads stored on S3 (STORAGE_DRIVER=s3, versitygw started for the run): ours (POST
 * /api/upload/media: multipart, sniffed, hashed, streamed into an S3 multipart upload) against the AWS SDK's own
 * `Upload` of the same bytes to the same server (bench/peers/sdk-upload.js), alternating. Throughput and our
 * server's peak RSS growth at 100 MB and 1 GB (the growth must stay flat: bounded part buffers).
 */
const { execFile } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { rmSync } = require('node:fs');
const { join } = require('node:path');
const { promisify } = require('node:util');
const { MiB, MB, request, uploadMultipart, registerUser } = require('../lib/client');
const { measureMemory, memoryOf } = require('../lib/proc');
const { alternate, entry } = require('../lib/entry');
const { ROOT, BENCH_CACHE } = require('../lib/servers');

const run = promisify(execFile);
const SIZES = [
  { label: '100MB', size: 100 * MiB, reps: 3 },
  { label: '1GB', size: 1024 * MiB, reps: 3 },
];

async function startS3(log) {
  const dist = join(BENCH_CACHE, 'dist');
  const { startEmbeddedS3Server, S3ObjectStore } = require(join(dist, 'storage', 's3', 'index.js'));
  const dataDir = join(BENCH_CACHE, 'run', `s3-${process.pid}`);
  const server = await startEmbeddedS3Server({
    dataDir,
    cacheDir: join(ROOT, '.cache'),
    log,
  });
  const bucket = `bench-${randomBytes(4).toString('hex')}`;
  const store = new S3ObjectStore({
    endpoint: server.endpoint,
    region: server.region,
    bucket,
    credentials: server.credentials,
    forcePathStyle: true,
    partSizeBytes: 8 * MiB,
    queueSize: 2,
  });
  await store.ensureBucket();
  return { server, bucket, store, dataDir };
}

module.exports = {
  name: 's3-upload',
  async run(ctx) {
    const s3 = await startS3(ctx.log);
    const { endpoint, region, credentials } = s3.server;
    const ours = await ctx.startOurs({
      env: {
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: endpoint,
        S3_REGION: region,
        S3_BUCKET: s3.bucket,
        S3_ACCESS_KEY_ID: credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      },
    });
    try {
      const user = await registerUser(ours.base);
      const oursUpload = async (size) => {
        let sentMs = 0;
        const started = performance.now();
        const { result, growthMiB } = await measureMemory(
          ours.pid,
          () =>
            uploadMultipart(`${ours.base}/api/upload/media`, {
              size,
              headers: user.auth,
              fields: { fileType: 'video' },
              onWritten: (written, now) => {
                if (written === size) sentMs = now - started;
              },
            }),
          ours.idleMiB,
        );
        if (result.status !== 201)
          throw new Error(`ours answered ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`);
        await request(`${ours.base}/api/media/${result.body.uploadId}`, {
          method: 'DELETE',
          headers: user.auth,
        });
        // What the request costs once the client has sent its last byte: the last parts, completion, the promote.
        return { mbps: size / MB / (result.ms / 1000), growthMiB, tailMs: Math.round(result.ms - sentMs) };
      };
      const sdkUpload = async (size) => {
        const key = `sdk/${randomBytes(6).toString('hex')}`;
        const { stdout } = await run(
          process.execPath,
          [join(ROOT, 'bench', 'peers', 'sdk-upload.js'), endpoint, region, s3.bucket, key, String(size)],
          {
            env: {
              ...process.env,
              AWS_ACCESS_KEY_ID: credentials.accessKeyId,
              AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            },
          },
        );
        await s3.store.delete(key);
        return { mbps: size / MB / (JSON.parse(stdout).ms / 1000) };
      };
      await oursUpload(8 * MiB);
      ours.idleMiB = memoryOf(ours.pid).rssMiB;
      const rows = [];
      for (const { label, size, reps } of SIZES) {
        ctx.log(` ${label}: ${reps} reps each of ours (S3 driver) and the AWS SDK's Upload`);
        const samples = await alternate(
          reps,
          { ours: () => oursUpload(size), sdk: () => sdkUpload(size) },
          ctx.log,
        );
        rows.push(
          entry({
            name: `s3 single-upload ${label}: throughput`,
            unit: 'MB/s',
            ours: samples.ours.map((s) => s.mbps),
            peer: samples.sdk.map((s) => s.mbps),
            peerName: 'AWS SDK Upload, same bytes, same S3 server',
            goal: { of: 'ratio', op: '>=', value: 0.8 },
          }),
          entry({
            name: `s3 single-upload ${label}: response time after the last byte sent`,
            unit: 'ms',
            ours: samples.ours.map((s) => s.tailMs),
          }),
          entry({
            name: `s3 single-upload ${label}: server peak RSS growth`,
            unit: 'MiB',
            ours: samples.ours.map((s) => s.growthMiB),
            goal: { of: 'ours', op: '<=', value: 96 },
          }),
        );
      }
      return rows;
    } finally {
      await ours.stop();
      await s3.server.stop();
      rmSync(s3.dataDir, { recursive: true, force: true });
    }
  },
};
