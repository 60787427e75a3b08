import { useSyncExternalStore } from 'react';
import { apiErrorCode, IdentityChangedError, isApiError, NotSetUpError } from '@securechat/client';
import { errorMessage } from '../../lib/api-errors.ts';

/** A message of this device on its way to the server. */
export interface OutboxEntry {
  id: string;
  conversationId: string;
  text: string;
  replyTo?: string;
  sentAt: Date;
  status: 'sending' | 'failed';
  error?: string;
  /** The send failed for a reason that passes by itself, so the app tries again later. */
  retryLater?: boolean;
}

/** Why a conversation's edits or reactions wait to be sent. */
export interface ChangesWaiting {
  /** The failure passes by itself (no connection, a busy server), so they go again by themselves. */
  retryLater: boolean;
  /** What stops them, for the user, when it does not pass by itself. */
  reason?: string;
}

/**
 * Messages being sent, for optimistic display: each shows at once with "Sending…", and stays with
 * "Not sent" and a retry if sending fails. The client stores each message before sending it, so
 * after a reload an unsent one is still found in the local history (as a message with no seq).
 */
export class Outbox {
  #entries = new Map<string, OutboxEntry>();
  /** Conversations whose edits or reactions wait, as the last round of sending found them. */
  #changesWaiting: ReadonlyMap<string, ChangesWaiting> = new Map();
  readonly #listeners = new Set<() => void>();
  readonly #resendRequests = new Set<() => void>();

  set(entry: OutboxEntry): void {
    this.#entries = new Map(this.#entries).set(entry.id, entry);
    this.#changed();
  }

  update(id: string, change: Partial<OutboxEntry>): void {
    const entry = this.#entries.get(id);
    if (entry) this.set({ ...entry, ...change });
  }

  delete(id: string): void {
    if (!this.#entries.has(id)) return;
    this.#entries = new Map(this.#entries);
    this.#entries.delete(id);
    this.#changed();
  }

  get(id: string): OutboxEntry | undefined {
    return this.#entries.get(id);
  }

  /** Asks for a round of sending again now (see ResendUnsent): after a failed edit, say. */
  resendNow(): void {
    for (const listener of this.#resendRequests) listener();
  }

  /** Runs `listener` on every {@link resendNow}. */
  onResendRequest(listener: () => void): () => void {
    this.#resendRequests.add(listener);
    return () => this.#resendRequests.delete(listener);
  }

  /** The conversations whose edits or reactions still wait, as a round of sending found them. */
  setChangesWaiting(waiting: ReadonlyMap<string, ChangesWaiting>): void {
    const same =
      waiting.size === this.#changesWaiting.size &&
      [...waiting].every(([id, w]) => {
        const before = this.#changesWaiting.get(id);
        return before?.retryLater === w.retryLater && before.reason === w.reason;
      });
    if (same) return;
    this.#changesWaiting = new Map(waiting);
    this.#changed();
  }

  /** Why edits or reactions in the conversation wait, if they do. */
  changesWaiting = (conversationId: string): ChangesWaiting | undefined =>
    this.#changesWaiting.get(conversationId);

  /** Whether edits or reactions of any conversation wait for a failure that passes. */
  changesRetryLater = (): boolean =>
    [...this.#changesWaiting.values()].some((waiting) => waiting.retryLater);

  subscribe = (listener: () => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  snapshot = () => this.#entries;

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** The outbox entries (a new Map whenever one changes). */
export function useOutbox(outbox: Outbox): Map<string, OutboxEntry> {
  return useSyncExternalStore(outbox.subscribe, outbox.snapshot);
}

/** Why edits or reactions in the conversation wait to be sent, if they do. */
export function useChangesWaiting(
  outbox: Outbox,
  conversationId: string,
): ChangesWaiting | undefined {
  return useSyncExternalStore(outbox.subscribe, () => outbox.changesWaiting(conversationId));
}

/**
 * What a failed send, edit or reaction says to the user; `nameOf` names the user an error is about.
 */
export function describeSendError(error: unknown, nameOf: (userId: string) => string): string {
  if (error instanceof IdentityChangedError) {
    return `${nameOf(error.userId)}’s safety number changed. Review it before sending.`;
  }
  if (error instanceof NotSetUpError) {
    return `${nameOf(error.userId)} has not set up encryption yet (they need to sign in once).`;
  }
  return errorMessage(error);
}

/** No connection, or a busy or restarting server: a failure that passes by itself. */
export function failureMayPass(error: unknown): boolean {
  if (!isApiError(error)) return false;
  const code = apiErrorCode(error);
  return (
    code === null ||
    code === 'TOO_MANY_REQUESTS' ||
    code === 'INTERNAL_SERVER_ERROR' ||
    code === 'SERVICE_UNAVAILABLE'
  );
}
