import { useEffect, useRef } from 'react';
import { hashKey, useQueryClient } from '@tanstack/react-query';
import { isApiError, type ChatMessage, type UnsentChange } from '@securechat/client';
import { useE2ee, useReadyE2ee } from '../e2ee/e2ee-context.ts';
import type { ConversationsData } from '../e2ee/e2ee-provider.tsx';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { describeSendError, failureMayPass, type ChangesWaiting } from './outbox.ts';

/** The first pause before sending again after a failure that may pass; it doubles up to the last. */
const FIRST_PAUSE_MS = 5_000;
const LONGEST_PAUSE_MS = 300_000;

/**
 * Sends again, by itself, what this device left unsent (a send that failed, or a tab closed while
 * sending): messages, edits and reactions, on every page of the app. It does so once the device is
 * ready, when the browser is back online, when the server answers again, and after a growing pause
 * while sending keeps failing for want of a connection. Each conversation's messages go in the
 * order they were written, and stop at the first that fails, so none overtakes an earlier one;
 * that one shows "Not sent" with its reason and a retry. Edits and reactions go in the order they
 * were made; while they wait, their conversation says why. Any page can ask for a round at once
 * with `outbox.resendNow()`: after a failed edit, or once a changed safety number is accepted.
 */
export function ResendUnsent() {
  const { client, status } = useE2ee();
  return client && status === 'ready' ? <Resender /> : null;
}

function Resender() {
  const { client, user, outbox, streamProblem } = useReadyE2ee();
  const queryClient = useQueryClient();
  const resendNow = useRef(() => {});

  useEffect(() => {
    let running = false;
    // A reason to send again that came while sending: one more round follows this one.
    let askedAgain = false;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pause = FIRST_PAUSE_MS;
    const nameOf = (userId: string) =>
      queryClient
        .getQueryData<ConversationsData>(e2eeKeys.conversations(user.id))
        ?.items.flatMap((c) => c.members)
        .find((m) => m.id === userId)?.username ?? 'Someone';

    /** Tries again after the pause if a send failed for a reason that passes by itself. */
    function later() {
      if (stopped || running || timer !== undefined) return;
      const waiting =
        outbox.changesRetryLater() ||
        [...outbox.snapshot().values()].some(
          (entry) => entry.status === 'failed' && entry.retryLater,
        );
      if (!waiting) {
        pause = FIRST_PAUSE_MS;
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        void resend();
      }, pause);
      pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
    }

    /** Invalidates a conversation's messages, also where no page shows them, so none opens stale. */
    const refresh = (conversationId: string) =>
      void queryClient.invalidateQueries({
        queryKey: e2eeKeys.messages(user.id, conversationId),
        refetchType: 'all',
      });

    /**
     * Sends a conversation's edits and reactions in the order they were made. One the server
     * refuses for good (the message is gone, or this user left) is dropped. Any other failure
     * stops the rest until the next round, and is returned: one that passes by itself (no
     * connection), or one the user must act on (a changed safety number to review).
     */
    async function resendChanges(
      conversationId: string,
      changes: UnsentChange[],
    ): Promise<ChangesWaiting | undefined> {
      try {
        for (const change of changes) {
          try {
            await client.messages.resend(conversationId, change.id);
          } catch (error) {
            if (failureMayPass(error)) return { retryLater: true };
            if (!isApiError(error))
              return { retryLater: false, reason: describeSendError(error, nameOf) };
            await client.localHistory.discardUnsent(conversationId, change.id);
          }
        }
        return undefined;
      } finally {
        if (changes.length > 0) refresh(conversationId);
      }
    }

    /** Sends a conversation's messages in the order written, up to the first that fails. */
    async function resendMessages(conversationId: string, messages: ChatMessage[]) {
      for (const message of messages) {
        // Already on its way (sent from the composer, or by a retry).
        if (outbox.get(message.id)?.status === 'sending') return;
        outbox.set({
          id: message.id,
          conversationId,
          text: message.text,
          ...(message.replyTo ? { replyTo: message.replyTo } : {}),
          sentAt: message.sentAt,
          status: 'sending',
        });
        try {
          await client.messages.resend(conversationId, message.id);
          outbox.delete(message.id);
        } catch (error) {
          outbox.update(message.id, {
            status: 'failed',
            error: describeSendError(error, nameOf),
            retryLater: failureMayPass(error),
          });
          return;
        } finally {
          refresh(conversationId);
        }
      }
    }

    async function resend() {
      if (stopped) return;
      if (running) {
        askedAgain = true;
        return;
      }
      running = true;
      askedAgain = false;
      clearTimeout(timer);
      timer = undefined;
      try {
        const byConversation = new Map<
          string,
          { messages: ChatMessage[]; changes: UnsentChange[] }
        >();
        const of = (conversationId: string) => {
          let unsent = byConversation.get(conversationId);
          if (!unsent) byConversation.set(conversationId, (unsent = { messages: [], changes: [] }));
          return unsent;
        };
        for (const message of await client.localHistory.unsent())
          of(message.conversationId).messages.push(message);
        for (const change of await client.localHistory.unsentChanges())
          of(change.conversationId).changes.push(change);
        const changesWaiting = new Map<string, ChangesWaiting>();
        await Promise.all(
          [...byConversation].map(async ([conversationId, { messages, changes }]) => {
            const waiting = await resendChanges(conversationId, changes);
            if (waiting) changesWaiting.set(conversationId, waiting);
            await resendMessages(conversationId, messages);
          }),
        );
        outbox.setChangesWaiting(changesWaiting);
        if (byConversation.size > 0)
          void queryClient.invalidateQueries({
            queryKey: e2eeKeys.conversations(user.id),
            refetchType: 'all',
          });
      } catch {
        // Reading this device's history failed: the messages stay, each with its own retry.
      } finally {
        running = false;
      }
      if (askedAgain) void resend();
      else later();
    }
    const now = () => {
      pause = FIRST_PAUSE_MS;
      void resend();
    };
    resendNow.current = now;

    // Now, and whenever the browser is back online.
    now();
    window.addEventListener('online', now);
    // When a send fails for a reason that passes, wherever it was sent from.
    const unsubscribeOutbox = outbox.subscribe(later);
    const unsubscribeRequests = outbox.onResendRequest(now);
    // When the server answers again: the conversation list, fetched by whichever page shows it,
    // is no longer this device's copy.
    const hash = hashKey(e2eeKeys.conversations(user.id));
    let wasOffline: string | null = null;
    const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
      if (event.type !== 'updated' || event.query.queryHash !== hash) return;
      const data = event.query.state.data as ConversationsData | undefined;
      if (!data) return;
      if (wasOffline !== null && data.offline === null) now();
      wasOffline = data.offline;
    });
    return () => {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener('online', now);
      unsubscribeOutbox();
      unsubscribeRequests();
      unsubscribe();
    };
  }, [client, outbox, queryClient, user.id]);

  // When the live event stream works again.
  const hadStreamProblem = useRef(streamProblem);
  useEffect(() => {
    if (hadStreamProblem.current !== null && streamProblem === null) resendNow.current();
    hadStreamProblem.current = streamProblem;
  }, [streamProblem]);

  return null;
}
