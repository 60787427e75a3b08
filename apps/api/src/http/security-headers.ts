import type { ServerResponse } from 'node:http';

/**
 * Headers on every response. The CSP allows no inline or third-party script: with end-to-end
 * encryption in the page, an injected script would read everything (see the README).
 */
const CSP = [
  "default-src 'self'",
  // 'wasm-unsafe-eval' lets the page compile WebAssembly (the crypto package's hash-wasm), not
  // evaluate JavaScript strings.
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function setSecurityHeaders(res: ServerResponse, secure: boolean): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  // The camera only for this origin's own pages: linking a device scans its QR code.
  res.setHeader('Permissions-Policy', 'camera=(self), microphone=(), geolocation=()');
  if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}
