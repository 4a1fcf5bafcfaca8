import http from 'node:http';
import { listenOnLoopback } from '../support/loopback-server';

export interface DropProxy {
  /** Base URL of the proxy (127.0.0.1). */
  url: string;
  /** How many responses it lost so far. */
  dropped: number;
  close(): Promise<void>;
}

/**
 * A 127.0.0.1 proxy in front of the app that forwards every request, but loses the response of the first PATCH
 * that completes an upload of `size` bytes: the app stored it, the client only sees its connection break, as on a
 * mobile network.
 */
export async function startDropProxy(target: string, size: number): Promise<DropProxy> {
  const proxy: DropProxy = { url: '', dropped: 0, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const upstream = http.request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers });
    upstream.on('response', (answer) => {
      const completes = req.method === 'PATCH' && answer.headers['upload-offset'] === String(size);
      if (completes && proxy.dropped === 0) {
        proxy.dropped += 1;
        answer.resume();
        res.socket?.destroy();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  });
  Object.assign(proxy, await listenOnLoopback(server));
  return proxy;
}
