import { TRPCError } from '@trpc/server';
import { DomainError, isStorageFull } from '../errors.ts';
import { middleware, toTRPCError } from './init.ts';

/**
 * Maps a domain error thrown by a handler to its tRPC code (see trpc/init.ts), and storage
 * running out to SERVICE_UNAVAILABLE: the write did not happen and a retry later can succeed.
 */
export const mapDomainErrors = middleware(async function mapDomainErrors({ next }) {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError)
    throw toTRPCError(result.error.cause);
  if (!result.ok && isStorageFull(result.error.cause)) {
    throw new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The server is out of storage space, so nothing was saved; try again later',
      cause: result.error.cause,
    });
  }
  return result;
});

/** Caps calls per session (or per address before sign-in). */
export const rateLimit = middleware(function rateLimit({ ctx, next }) {
  const key = ctx.sessionId ?? `ip:${ctx.meta.ip}`;
  const retryAfterSeconds = ctx.deps.rateLimiter.take(key);
  if (retryAfterSeconds > 0) {
    throw toTRPCError(
      new DomainError('rate_limited', 'Too many requests; slow down', undefined, retryAfterSeconds),
    );
  }
  return next();
});

/**
 * Requires a live session, checked on every call: a WebSocket opened earlier gets no grace once
 * its session ends.
 */
export const isAuthed = middleware(function isAuthed({ ctx, next }) {
  const valid = ctx.sessionId ? ctx.deps.sessions.validate(ctx.sessionId) : null;
  if (!valid) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first' });
  return next({ ctx: { session: valid.session, user: valid.user } });
});

/** Caps the subscriptions open at once on one connection; the slot frees when one ends. */
export const limitSubscriptions = middleware(async function limitSubscriptions({
  ctx,
  type,
  next,
}) {
  const connection = ctx.connection;
  if (type !== 'subscription' || !connection) return next();
  const max = ctx.deps.config.limits.maxSubscriptions;
  if (connection.subscriptions >= max) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `At most ${max} subscriptions may be open on one connection`,
    });
  }
  connection.subscriptions += 1;
  let released = false;
  const release = () => {
    if (!released) connection.subscriptions -= 1;
    released = true;
  };
  const result = await next();
  if (!result.ok) {
    release();
    return result;
  }
  const iterable = result.data as AsyncIterable<unknown>;
  async function* counted() {
    try {
      yield* iterable;
    } finally {
      release();
    }
  }
  return { ...result, data: counted() };
});
