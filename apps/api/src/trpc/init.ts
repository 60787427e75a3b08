import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import superjson from 'superjson';
import { z, ZodError } from 'zod';
import { DomainError } from '../errors.ts';
import type { Context } from './context.ts';

const CODES: Record<DomainError['kind'], TRPC_ERROR_CODE_KEY> = {
  unauthenticated: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  invalid: 'BAD_REQUEST',
  too_large: 'PAYLOAD_TOO_LARGE',
  rate_limited: 'TOO_MANY_REQUESTS',
  stale: 'PRECONDITION_FAILED',
};

/** The one place where domain errors become tRPC errors. */
export function toTRPCError(error: DomainError): TRPCError {
  return new TRPCError({ code: CODES[error.kind], message: error.message, cause: error });
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // Subscriptions go over the WebSocket only, where connection limits and session checks live.
  sse: { enabled: false },
  errorFormatter({ shape, error, ctx }) {
    const cause = error.cause;
    const domain = cause instanceof DomainError ? cause : undefined;
    const fieldErrors =
      cause instanceof ZodError
        ? (z.flattenError(cause).fieldErrors as Record<string, string[]>)
        : domain?.fieldErrors;
    const { stack, ...data } = shape.data;
    return {
      ...shape,
      // A validation failure's message is the first field error, not the raw issue dump.
      message:
        cause instanceof ZodError ? (cause.issues[0]?.message ?? 'Invalid input') : shape.message,
      data: {
        ...data,
        ...(ctx?.deps.config.development && stack ? { stack } : {}),
        fieldErrors: fieldErrors ?? null,
        retryAfterSeconds: domain?.retryAfterSeconds ?? null,
        requestId: ctx?.meta.requestId ?? null,
      },
    };
  },
});

export const router = t.router;
export const middleware = t.middleware;
export const publicProcedureBase = t.procedure;
export const createCallerFactory = t.createCallerFactory;
