import { useCallback, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ChatMessage, MissingNotice } from '@securechat/client';
import { errorMessage } from '../../lib/api-errors.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';

export interface MessagesData {
  /** Oldest first. */
  messages: ChatMessage[];
  missing: MissingNotice[];
  /** Whether earlier history was cleared from this device (it is not fetched again). */
  cleared: boolean;
}

export interface Paging {
  /** Whether the server has older messages; null until the first page was asked for. */
  hasMore: boolean | null;
  loading: boolean;
  error: string | null;
}

/**
 * A conversation's messages. What the list shows is this device's local history, read without
 * the network (so it appears at once, and offline); the live event stream adds to it, and each
 * event invalidates this query. Older messages are fetched from the server page by page
 * (`loadOlder`), decrypted once, and land in the same local history.
 */
export function useMessages(conversationId: string) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const key = e2eeKeys.messages(user.id, conversationId);
  const query = useQuery({
    queryKey: key,
    queryFn: async (): Promise<MessagesData> => {
      const [newestFirst, missing, clearedUpTo] = await Promise.all([
        client.localHistory.messages(conversationId),
        client.localHistory.missing(conversationId),
        client.localHistory.clearedUpTo(conversationId),
      ]);
      return { messages: newestFirst.reverse(), missing, cleared: clearedUpTo > 0 };
    },
    // Kept current by events, not by polling.
    staleTime: Infinity,
  });
  const [paging, setPaging] = useState<Paging>({ hasMore: null, loading: false, error: null });
  const loading = useRef(false);

  const loadOlder = useCallback(async () => {
    if (loading.current || paging.hasMore === false) return;
    const data = queryClient.getQueryData<MessagesData>(key);
    if (!data) return;
    loading.current = true;
    setPaging((current) => ({ ...current, loading: true, error: null }));
    try {
      // The oldest message the server ordered: its record says where the next page starts.
      const oldest = data.messages.find((m) => m.seq !== null);
      const page = await client.messages.page(conversationId, {
        ...(oldest ? { before: oldest.id } : {}),
        limit: 50,
      });
      await queryClient.invalidateQueries({ queryKey: key });
      setPaging({ hasMore: page.hasMore, loading: false, error: null });
    } catch (error) {
      setPaging((current) => ({ ...current, loading: false, error: errorMessage(error) }));
    } finally {
      loading.current = false;
    }
    // `key` is derived from the two ids listed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, conversationId, user.id, paging.hasMore, queryClient]);

  return { query, paging, loadOlder };
}
