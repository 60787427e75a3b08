/**
 * Domain errors: handlers throw these, and one place (trpc/init.ts) maps them to tRPC codes, so
 * no code outside the tRPC layer needs to know about transport.
 */
export class DomainError extends Error {
  constructor(
    readonly kind:
      | 'unauthenticated'
      | 'forbidden'
      | 'not_found'
      | 'conflict'
      | 'invalid'
      | 'too_large'
      | 'rate_limited'
      | 'stale',
    message: string,
    /** For `invalid`: messages by input field, shown beside the field. */
    readonly fieldErrors?: Record<string, string[]>,
    /** For `rate_limited`: seconds until a retry can succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const unauthenticated = (message = 'Sign in first') =>
  new DomainError('unauthenticated', message);
export const notFound = (message: string) => new DomainError('not_found', message);
export const conflict = (message: string) => new DomainError('conflict', message);
export const invalidField = (field: string, message: string) =>
  new DomainError('invalid', message, { [field]: [message] });
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new DomainError('rate_limited', message, undefined, retryAfterSeconds);

/**
 * Whether `error` is storage running out: SQLite's "database or disk is full" or the file
 * system's ENOSPC. Nothing was written (the transaction rolled back), so the client may retry.
 */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC';
}
