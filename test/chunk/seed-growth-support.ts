import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { TestApp } from '../support/test-app';
import type { TestUser } from '../support/users';
import { newFileId, postChunk } from './seed-support';

/** The embedded database grows ~12.5 KB per small update (SQLite WAL); a growing document grew it by far more. */
export const MAX_DB_BYTES_PER_CHUNK = 16 * 1024;

/** Bytes of a test database's files (FerretDB/SQLite: `<dbName>.sqlite` and its -wal/-shm), if they are local. */
export async function databaseBytes(dbName: string): Promise<number | undefined> {
  const dirs = (await readdir(tmpdir())).filter((name) => name.startsWith('media-upload-testdb-'));
  for (const dir of dirs) {
    const files = (await readdir(join(tmpdir(), dir)).catch(() => [] as string[])).filter((name) =>
      name.startsWith(`${dbName}.sqlite`),
    );
    if (files.length === 0) continue;
    const sizes = await Promise.all(files.map((name) => stat(join(tmpdir(), dir, name)).then((s) => s.size)));
    return sizes.reduce((sum, size) => sum + size, 0);
  }
  return undefined;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export interface TinyChunkRun {
  fileId: string;
  /** Milliseconds of each chunk after the first, in sending order. */
  times: number[];
  elapsedMs: number;
  /** Database growth in bytes (undefined with an external server). */
  dbGrowth?: number;
}

/**
 * Sends `chunks` one-byte chunks to one session, one at a time, until done or `deadlineMs` ran out. Pairs arrive
 * swapped (2k+2 before 2k+1), so every other chunk is parked and then absorbed.
 */
export async function sendTinyChunks(
  t: TestApp,
  user: TestUser,
  chunks: number,
  deadlineMs: number,
): Promise<TinyChunkRun> {
  const fileId = newFileId();
  const send = async (chunkIndex: number) => {
    const file = Buffer.from([chunkIndex % 256]);
    const reply = await postChunk(t.url, user.token, { fileId, chunkIndex, status: 'uploading' }, file);
    if (reply.status !== 200)
      throw new Error(`chunk ${chunkIndex}: ${reply.status} ${JSON.stringify(reply.body)}`);
  };
  await send(0);
  const before = await databaseBytes(t.dbName);
  const started = Date.now();
  const times: number[] = [];
  for (let index = 1; index < chunks && Date.now() - started < deadlineMs; index += 1) {
    const swapped = index % 2 === 1 ? index + 1 : index - 1;
    const at = performance.now();
    await send(swapped < chunks ? swapped : index);
    times.push(performance.now() - at);
  }
  const elapsedMs = Date.now() - started;
  const after = await databaseBytes(t.dbName);
  const dbGrowth = before !== undefined && after !== undefined ? after - before : undefined;
  const first = median(times.slice(100, 400));
  const last = median(times.slice(-300));
  process.stderr.write(
    `seed growth: ${times.length + 1}/${chunks} chunks in ${elapsedMs} ms, median ${first?.toFixed(1)} → ` +
      `${last?.toFixed(1)} ms, database +${dbGrowth ?? '?'} bytes\n`,
  );
  return { fileId, times, elapsedMs, dbGrowth };
}

/** What the status route says after a run: every chunk received, nothing missing. */
export async function expectAllReceived(t: TestApp, user: TestUser, fileId: string, chunks: number) {
  const status = await request(t.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
  expect(status.body.data).toMatchObject({ fileSize: chunks, nextChunkIndex: chunks, missingChunks: [] });
  expect(status.body.data.receivedChunks).toEqual(Array.from({ length: chunks }, (_, i) => i));
}
