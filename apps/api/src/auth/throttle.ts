import { hmac } from '@oslojs/crypto/hmac';
import { SHA256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from '@oslojs/encoding';

/** Failure budgets; each counts failures in a fixed window and resets on its own. */
export interface ThrottleLimits {
  /** Failed sign-ins from one source address, over all accounts. */
  perSource: number;
  /** Failed sign-ins against one account from clients it has not seen succeed. */
  perAccount: number;
  windowMs: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  perSource: 10,
  perAccount: 50,
  windowMs: 15 * 60 * 1000,
};

const KNOWN_DEVICE_TTL_MS = 180 * 24 * 60 * 60 * 1000;

interface Window {
  count: number;
  resetAt: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Sign-in throttling that a stranger cannot turn against the real user:
 * - each source address has its own failure budget, so one attacker is stopped without
 *   touching anyone else;
 * - an account under a distributed attack stops accepting attempts from unknown clients, but a
 *   browser that signed in to it before carries a signed "known device" cookie and keeps its own
 *   budget (OWASP's device-cookie scheme), so the owner still gets in.
 * State is in memory: a restart forgets counts, which errs toward letting users in.
 */
export function createLoginThrottle(
  limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
  now: () => number = Date.now,
) {
  const bySource = new Map<string, Window>();
  const byAccount = new Map<string, Window>();
  const key = new Uint8Array(32);
  crypto.getRandomValues(key);

  const current = (map: Map<string, Window>, id: string): Window | undefined => {
    const window = map.get(id);
    if (window && window.resetAt <= now()) {
      map.delete(id);
      return undefined;
    }
    return window;
  };
  const bump = (map: Map<string, Window>, id: string) => {
    const window = current(map, id);
    if (window) window.count += 1;
    else map.set(id, { count: 1, resetAt: now() + limits.windowMs });
  };
  const retryAfter = (window: Window) => Math.max(1, Math.ceil((window.resetAt - now()) / 1000));

  const sign = (payload: string) =>
    encodeBase64urlNoPadding(hmac(SHA256, key, new TextEncoder().encode(payload)));

  return {
    /** Whether an attempt may proceed. `knownDevice` is true when its cookie is valid. */
    check(source: string, account: string, knownDevice: boolean): ThrottleVerdict {
      const sourceWindow = current(bySource, source);
      if (sourceWindow && sourceWindow.count >= limits.perSource) {
        return { allowed: false, retryAfterSeconds: retryAfter(sourceWindow) };
      }
      if (!knownDevice) {
        const accountWindow = current(byAccount, account.toLowerCase());
        if (accountWindow && accountWindow.count >= limits.perAccount) {
          return { allowed: false, retryAfterSeconds: retryAfter(accountWindow) };
        }
      }
      return { allowed: true };
    },

    recordFailure(source: string, account: string, knownDevice: boolean): void {
      bump(bySource, source);
      if (!knownDevice) bump(byAccount, account.toLowerCase());
    },

    /** A value for the known-device cookie, bound to the user id. */
    issueKnownDevice(userId: string): string {
      const payload = `${userId}.${now() + KNOWN_DEVICE_TTL_MS}`;
      return `${payload}.${sign(payload)}`;
    },

    /** The user id a known-device cookie was issued for, or null when invalid or expired. */
    knownDeviceUser(cookie: string | undefined): string | null {
      if (!cookie) return null;
      const parts = cookie.split('.');
      if (parts.length !== 3) return null;
      const [userId, expires, mac] = parts as [string, string, string];
      let given: Uint8Array;
      try {
        given = decodeBase64urlIgnorePadding(mac);
      } catch {
        return null;
      }
      const expected = decodeBase64urlIgnorePadding(sign(`${userId}.${expires}`));
      if (given.length !== expected.length || !constantTimeEqual(given, expected)) return null;
      if (!(Number(expires) > now())) return null;
      return userId;
    },

    /** Forgets expired windows; called periodically so the maps stay bounded. */
    sweep(): void {
      for (const map of [bySource, byAccount]) {
        for (const [id, window] of map) if (window.resetAt <= now()) map.delete(id);
      }
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
