import type { Context } from '../../trpc/context.ts';
import { SESSION_TTL_MS } from '../../auth/sessions.ts';
import { KNOWN_DEVICE_COOKIE, SESSION_COOKIE, serializeCookie } from '../../http/cookies.ts';

type CookieCtx = Pick<Context, 'setCookie' | 'deps'>;

export function setSessionCookie(ctx: CookieCtx, token: string): void {
  ctx.setCookie?.(
    serializeCookie(SESSION_COOKIE, token, {
      maxAgeSeconds: SESSION_TTL_MS / 1000,
      secure: ctx.deps.config.secureCookies,
    }),
  );
}

export function clearSessionCookie(ctx: CookieCtx): void {
  ctx.setCookie?.(
    serializeCookie(SESSION_COOKIE, '', {
      maxAgeSeconds: 0,
      secure: ctx.deps.config.secureCookies,
    }),
  );
}

/** Marks this browser as one that signed in to the account (see auth/throttle.ts). */
export function setKnownDeviceCookie(ctx: CookieCtx, userId: string): void {
  ctx.setCookie?.(
    serializeCookie(KNOWN_DEVICE_COOKIE, ctx.deps.throttle.issueKnownDevice(userId), {
      maxAgeSeconds: 180 * 24 * 60 * 60,
      secure: ctx.deps.config.secureCookies,
    }),
  );
}
