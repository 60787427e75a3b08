import { Outlet, useParams } from 'react-router';
import { EncryptionGate } from '../e2ee/encryption-gate.tsx';
import { ConversationSidebar } from './conversation-sidebar.tsx';
import { useConversations } from './use-conversations.ts';

function ChatsLayout() {
  const { conversationId } = useParams();
  const conversations = useConversations();
  const title = conversations.data?.items.find((c) => c.id === conversationId)?.title;
  return (
    <div className={`chats${conversationId ? ' chats-open' : ''}`}>
      <ConversationSidebar documentTitle={title ?? 'Chats'} />
      <div className="chats-pane">
        <Outlet />
      </div>
    </div>
  );
}

/**
 * The chats: conversation list and message pane side by side on wide screens, one at a time on
 * phones. Before this browser's device is ready, the setup step it needs instead.
 */
export function ChatsPage() {
  return (
    <EncryptionGate>
      <ChatsLayout />
    </EncryptionGate>
  );
}
