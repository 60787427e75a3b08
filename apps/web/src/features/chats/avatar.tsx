import type { ConversationSummary } from '@securechat/client';
import { NoteIcon, UsersIcon } from '../../components/icons.tsx';

/** A few stable colours, picked by id, so a conversation keeps its colour everywhere. */
const TONES = 6;

export function toneOf(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash % TONES;
}

/** A decorative picture for a conversation: initial, group or notes icon, and a presence dot. */
export function ConversationAvatar({
  conversation,
  online,
  size = 'normal',
}: {
  conversation: Pick<ConversationSummary, 'id' | 'kind' | 'title'>;
  online?: boolean;
  size?: 'normal' | 'small';
}) {
  return (
    <span
      className={`chat-avatar chat-avatar-${size} tone-${toneOf(conversation.id)}`}
      aria-hidden="true"
    >
      {conversation.kind === 'notes' ? (
        <NoteIcon />
      ) : conversation.kind === 'group' ? (
        <UsersIcon />
      ) : (
        conversation.title.slice(0, 1).toUpperCase()
      )}
      {online && <span className="presence-dot" />}
    </span>
  );
}

/** A user's initial in their colour. */
export function UserAvatar({ userId, username }: { userId: string; username: string }) {
  return (
    <span className={`chat-avatar chat-avatar-small tone-${toneOf(userId)}`} aria-hidden="true">
      {username.slice(0, 1).toUpperCase()}
    </span>
  );
}
