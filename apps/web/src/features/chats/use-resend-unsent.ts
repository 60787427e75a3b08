import { useCallback, useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { ChatMessage } from '@securechat/client';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import type { ConversationsData } from '../e2ee/e2ee-provider.tsx';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { describeSendError, type Outbox } from './outbox.ts';
import { useConversations } from './use-conversations.ts';

/**
 * Sends again, by itself, what this device left unsent (a send that failed, or a tab closed while
 * sending): when the chats open and when the connection comes back, as chat apps do. Each
 * conversation's messages go in the order they were written, and stop at the first that fails, so
 * none overtakes an earlier one; that one shows "Not sent" with its reason and a retry.
 */
export function useResendUnsent(outbox: Outbox): void {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const offline = useConversations().data?.offline ?? null;
  const running = useRef(false);

  const resend = useCallback(async () => {
    if (running.current) return;
    running.current = true;
    try {
      const byConversation = new Map<string, ChatMessage[]>();
      for (const message of await client.localHistory.unsent()) {
        const list = byConversation.get(message.conversationId) ?? [];
        byConversation.set(message.conversationId, [...list, message]);
      }
      const nameOf = (userId: string) =>
        queryClient
          .getQueryData<ConversationsData>(e2eeKeys.conversations(user.id))
          ?.items.flatMap((c) => c.members)
          .find((m) => m.id === userId)?.username ?? 'Someone';
      await Promise.all(
        [...byConversation].map(async ([conversationId, messages]) => {
          for (const message of messages) {
            // Already on its way (sent from the composer, or by a retry).
            if (outbox.get(message.id)?.status === 'sending') break;
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
              });
              break;
            } finally {
              void queryClient.invalidateQueries({
                queryKey: e2eeKeys.messages(user.id, conversationId),
              });
            }
          }
        }),
      );
      if (byConversation.size > 0)
        void queryClient.invalidateQueries({ queryKey: e2eeKeys.conversations(user.id) });
    } catch {
      // Reading this device's history failed: the messages stay, each with its own retry.
    } finally {
      running.current = false;
    }
  }, [client, outbox, queryClient, user.id]);

  // When the chats open, and when the browser is back online.
  useEffect(() => {
    void resend();
    const online = () => void resend();
    window.addEventListener('online', online);
    return () => window.removeEventListener('online', online);
  }, [resend]);
  // When the server answers again after the conversation list fell back to this device's copy.
  const wasOffline = useRef(offline);
  useEffect(() => {
    if (wasOffline.current !== null && offline === null) void resend();
    wasOffline.current = offline;
  }, [offline, resend]);
}
