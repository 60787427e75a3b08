import { useEffect } from 'react';
import { useMatch } from 'react-router';
import { setUnreadTitleCount } from '../../lib/unread-title.ts';
import { useNow } from '../../lib/time.ts';
import { usePageVisible } from '../../lib/use-page-visible.ts';
import { useE2ee, useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { mutedUntil, useLocalPrefs } from '../e2ee/local-prefs.ts';
import { useConversations } from './use-conversations.ts';

/**
 * Keeps the tab title's unread count: the conversations' unread messages, muted ones and the one
 * being read left out.
 */
export function UnreadTitleCount() {
  const { client, status } = useE2ee();
  return client && status === 'ready' ? <Counter /> : null;
}

function Counter() {
  const { user } = useReadyE2ee();
  const conversations = useConversations();
  const [prefs] = useLocalPrefs(user.id);
  const now = useNow(60_000);
  // The conversation on screen is being read (as in the list, no count flashes for it).
  const open = useMatch('/c/:conversationId')?.params.conversationId;
  const visible = usePageVisible();
  const total = (conversations.data?.items ?? [])
    .filter((c) => mutedUntil(prefs, c.id, now) === null && !(visible && c.id === open))
    .reduce((sum, c) => sum + c.unread, 0);
  useEffect(() => setUnreadTitleCount(total), [total]);
  useEffect(() => () => setUnreadTitleCount(0), []);
  return null;
}
