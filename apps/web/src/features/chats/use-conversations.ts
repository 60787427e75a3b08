import { useQuery } from '@tanstack/react-query';
import { apiErrorCode } from '@securechat/client';
import { errorMessage } from '../../lib/api-errors.ts';
import { useBrowserOnline } from '../../lib/use-browser-online.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import type { ConversationsData } from '../e2ee/e2ee-provider.tsx';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { sortByActivity } from './conversation-list.ts';

/**
 * The conversation list, most recently active first. Previews come from what this device already
 * decrypted (the event stream decrypts new messages as they arrive). When the server cannot be
 * reached, the list saved on this device is shown instead, and says so.
 */
export function useConversations() {
  const { client, user } = useReadyE2ee();
  return useQuery({
    queryKey: e2eeKeys.conversations(user.id),
    queryFn: async (): Promise<ConversationsData> => {
      try {
        const items = await client.conversations.list({ preview: 'cached' });
        return { items: sortByActivity(items), offline: null };
      } catch (error) {
        // Only a missing connection falls back; a refusal is a real error.
        if (apiErrorCode(error) !== null) throw error;
        const cached = await client.localHistory.conversations();
        if (!cached) throw error;
        return { items: sortByActivity(cached), offline: errorMessage(error) };
      }
    },
    staleTime: 30_000,
  });
}

const NOBODY_ONLINE: ReadonlyMap<string, boolean> = new Map();

/** Online state of users who share a conversation with the signed-in user (none known offline). */
export function usePresence(userIds: string[]): ReadonlyMap<string, boolean> {
  const { client, user, streamProblem } = useReadyE2ee();
  const ids = [...new Set(userIds)].sort();
  const presence = useQuery({
    queryKey: [...e2eeKeys.presence(user.id), ids.join(',')],
    queryFn: async () => {
      if (ids.length === 0) return new Map<string, boolean>();
      const rows = await client.api.users.presence.query({ userIds: ids });
      return new Map(rows.map((row) => [row.userId, row.online]));
    },
    staleTime: 60_000,
  });
  // Presence stays current through the live event stream: without a connection, or while the
  // stream is down, what is known is stale, so nobody is shown online.
  const connected = useBrowserOnline() && streamProblem === null;
  return (connected ? presence.data : undefined) ?? NOBODY_ONLINE;
}
