import type { Request } from 'express';

type TrustFn = (address: string, hop: number) => boolean;

/** A host (name, IPv4 or bracketed IPv6) with an optional port: nothing else goes into a URL we hand out. */
const HOST = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

/**
 * The origin of the absolute URLs the service hands out (no trailing slash): PUBLIC_URL when set, else the scheme
 * and host a trusted proxy forwarded (X-Forwarded-Proto/-Host under TRUST_PROXY), else '' so the URL stays relative
 * and the client resolves it against the URL it called. The Host header alone is never used: any caller sets it.
 */
export function publicBaseUrl(req: Request, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const trust = req.app.get('trust proxy fn') as TrustFn | undefined;
  const forwarded = req.get('X-Forwarded-Host');
  if (!forwarded || !trust?.(req.socket.remoteAddress ?? '', 0)) return '';
  const host = req.host;
  return HOST.test(host) ? `${req.protocol}://${host}` : '';
}
