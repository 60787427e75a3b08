import { apiErrorCode, fieldErrors, isApiError } from '@securechat/client';

export { apiErrorCode, fieldErrors };

/** Seconds until a throttled call may succeed, from a TOO_MANY_REQUESTS error, or null. */
export function retryAfterSeconds(error: unknown): number | null {
  if (!isApiError(error)) return null;
  const value = (error.data as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(1, Math.ceil(value)) : null;
}

/** Whether the error means the session is gone (expired, revoked or signed out elsewhere). */
export function isUnauthorized(error: unknown): boolean {
  return apiErrorCode(error) === 'UNAUTHORIZED';
}

/**
 * A sentence for the user about a failed call. Field errors are shown beside their fields, so
 * this is for everything else: throttling, unreachable server, or the server's own message.
 */
export function errorMessage(error: unknown): string {
  const code = apiErrorCode(error);
  if (code === 'TOO_MANY_REQUESTS') {
    const seconds = retryAfterSeconds(error);
    if (seconds === null) return 'Too many attempts; try again later.';
    const unit = seconds === 1 ? 'second' : 'seconds';
    // Long lockouts also in minutes: "900 seconds" alone is hard to picture.
    const minutes = seconds >= 120 ? ` (about ${Math.round(seconds / 60)} minutes)` : '';
    return `Too many attempts; try again in ${seconds} ${unit}${minutes}.`;
  }
  if (code === null) {
    // A tRPC error without a code: the request never got an answer from the API.
    if (isApiError(error) || (error instanceof TypeError && /fetch|network/i.test(error.message))) {
      return 'Cannot reach the server. Check your connection and try again.';
    }
    // Not the network: something failed in this page (e.g. while encrypting). Say what.
    return error instanceof Error && error.message
      ? `Something went wrong: ${error.message}`
      : 'Something went wrong.';
  }
  if (code === 'INTERNAL_SERVER_ERROR') {
    return 'Something went wrong on the server. Try again in a moment.';
  }
  return error instanceof Error && error.message ? error.message : 'Something went wrong.';
}

/** What a form shows for a failed submit: messages beside fields, or one message for the form. */
export interface FormErrors {
  fields: Record<string, string[]>;
  message: string | null;
}

export const NO_FORM_ERRORS: FormErrors = { fields: {}, message: null };

/** Splits a failed call into field errors (when the server named fields) or a form message. */
export function formErrors(error: unknown): FormErrors {
  const fields = fieldErrors(error);
  if (Object.keys(fields).length > 0) return { fields, message: null };
  return { fields: {}, message: errorMessage(error) };
}
