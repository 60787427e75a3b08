import type { IncomingMessage } from 'node:http';

/**
 * The client's address: the socket's peer, or behind a trusted reverse proxy the address it
 * reports (the last X-Forwarded-For entry, the one the proxy itself appended).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)
      ?.split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .at(-1);
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Whether a request's Origin may act with the user's cookies: the server's own origin (the
 * Origin's host equals the Host header) or one configured in ALLOWED_ORIGINS. Requests without
 * an Origin (services using bearer tokens, curl) carry no ambient browser credentials of a
 * third-party site, so they pass, unless the browser marks them cross-site (Fetch Metadata).
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] !== 'cross-site';
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
