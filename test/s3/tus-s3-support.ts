import { createHash } from 'node:crypto';
import http from 'node:http';
import { listenOnLoopback } from '../support/loopback-server';
import type { S3ObjectStore } from '../../src/storage/s3';

/** SHA-256 of an object, streamed from the bucket. */
export async function objectSha256(store: S3ObjectStore, key: string): Promise<string> {
  const read = await store.read(key);
  if (!read) throw new Error(`no object at ${key}`);
  const hash = createHash('sha256');
  for await (const chunk of read.stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * What the bucket still holds of tus upload `id` outside `media/`: objects and unfinished multipart uploads
 * (billed until aborted) under `tus/<id>` (its assembly, tail pieces, pieces being written).
 */
export async function tusLeftovers(
  store: S3ObjectStore,
  id: string,
): Promise<{ keys: string[]; uploads: string[] }> {
  const prefix = `tus/${id}`;
  const keys = (await store.list(prefix)).map((object) => object.key).sort();
  const uploads = (await store.listIncompleteUploads(prefix)).map((upload) => upload.key).sort();
  return { keys, uploads };
}

/** The tail pieces of tus upload `id`'s assembly (`tus/<id>.tail/<offset>`), as `offset:size`. */
export async function tusPieces(store: S3ObjectStore, id: string): Promise<string[]> {
  const tail = `tus/${id}.tail/`;
  return (await store.list(tail))
    .filter((object) => /^\d+$/.test(object.key.slice(tail.length)))
    .map((object) => `${Number(object.key.slice(tail.length))}:${object.size}`);
}

export interface CutProxy {
  /** Base URL of the proxy (127.0.0.1). */
  url: string;
  /** How many PATCH bodies it cut so far. */
  cut: number;
  close(): Promise<void>;
}

/**
 * A 127.0.0.1 proxy in front of the app that forwards every request, but cuts the `patch`-th PATCH after
 * `afterBytes` of its body: the app sees the body break off, the client its connection (a mobile network dropping).
 */
export async function startCutProxy(
  target: string,
  { patch, afterBytes }: { patch: number; afterBytes: number },
): Promise<CutProxy> {
  let patches = 0;
  const proxy: CutProxy = { url: '', cut: 0, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const upstream = http.request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.socket?.destroy());
    if (req.method !== 'PATCH' || ++patches !== patch) return void req.pipe(upstream);
    let forwarded = 0;
    req.on('data', (chunk: Buffer) => {
      if (forwarded >= afterBytes) return;
      const part = chunk.subarray(0, afterBytes - forwarded);
      forwarded += part.length;
      upstream.write(part);
      if (forwarded < afterBytes) return;
      proxy.cut += 1;
      upstream.destroy();
      res.socket?.destroy();
    });
  });
  Object.assign(proxy, await listenOnLoopback(server));
  return proxy;
}
