import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@securechat/api';

/** Whether an error came from the API (as opposed to the network or the caller). */
export function isApiError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError;
}

/** The tRPC error code (`UNAUTHORIZED`, `BAD_REQUEST`, …) of an API error, or null. */
export function apiErrorCode(error: unknown): string | null {
  return isApiError(error) ? (error.data?.code ?? null) : null;
}

/** Messages by input field for a validation error, for showing beside each field. */
export function fieldErrors(error: unknown): Record<string, string[]> {
  // Errors the client finds before sending (e.g. CalendarInputError) carry them too.
  if (error instanceof Error && 'fieldErrors' in error && !isApiError(error))
    return (error.fieldErrors as Record<string, string[]> | undefined) ?? {};
  if (!isApiError(error)) return {};
  return (error.data?.fieldErrors as Record<string, string[]> | null | undefined) ?? {};
}
