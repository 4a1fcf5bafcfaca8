import type { Request, Response } from 'express';

/** How long a refused body is still read (and dropped) so the client, busy sending, gets to read the answer. */
const LINGER_MS = 2000;

/**
 * For an answer sent before the request body was read to its end (an error mid-upload, a 429 before the body):
 * the connection closes after the answer instead of reading the whole remaining body. Node would close the socket
 * at once, and with body bytes still unread that close is a TCP reset: a client busy sending then often loses the
 * answer (EPIPE). So the close is delayed: the answer's FIN goes out, the rest of the body is read and dropped
 * (never stored) for LINGER_MS at most, then the socket is destroyed. Relies on the server's `destroySoon`
 * deferring the destroy to the socket's 'finish'; should that change, the socket just closes at once.
 */
export function closeAfterAnswer(req: Request, res: Response): void {
  if (req.complete || res.headersSent) return;
  res.setHeader('Connection', 'close');
  res.once('finish', () => {
    const socket = req.socket;
    if (req.complete || socket.destroyed) return;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the very listener destroySoon registered
    socket.removeListener('finish', socket.destroy);
    req.resume();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/**
 * `closeAfterAnswer` for a response a library writes itself (@tus/server answering a PATCH it stopped early, e.g.
 * a holder asked to release its lock, with `Connection: close`): applied as the head is written, when the body has
 * not been read to its end by then.
 */
export function closeAfterEarlyAnswer(req: Request, res: Response): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => Response;
  res.writeHead = ((...args: unknown[]) => {
    res.writeHead = writeHead as Response['writeHead'];
    closeAfterAnswer(req, res);
    return writeHead(...args);
  }) as Response['writeHead'];
}
