import { useMemo, useState } from 'react';
import type { ConversationSummary } from '@securechat/client';
import { useConversations } from '../chats/use-conversations.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { toInstant } from './calendar-time.ts';
import { EventDialog, type EventDialogTarget } from './event-dialog.tsx';
import { useDisplayZone } from './use-calendar.ts';

interface ScheduleDialogProps {
  conversation: ConversationSummary;
  open: boolean;
  onClose: () => void;
  onSaved: (message: string) => void;
}

/**
 * "Schedule in this conversation": the event dialog preset to a conversation, opened from the
 * chat. The new event's card then appears in that chat's timeline.
 */
export function ScheduleDialog(props: ScheduleDialogProps) {
  // Mounted only while open, so the proposed time is "now" when it opens.
  return props.open ? <OpenScheduleDialog {...props} /> : null;
}

function OpenScheduleDialog({ conversation, onClose, onSaved }: ScheduleDialogProps) {
  const { user } = useReadyE2ee();
  const [zone] = useDisplayZone(user.id);
  const conversations = useConversations();
  const items = useMemo(
    () => conversations.data?.items ?? [conversation],
    [conversations.data, conversation],
  );
  // The next full hour, for an hour.
  const [target] = useState<EventDialogTarget>(() => {
    const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    return {
      mode: 'create',
      span: { allDay: false, start: toInstant(start), end: toInstant(start + 3_600_000) },
      conversationId: conversation.id,
    };
  });
  return (
    <EventDialog
      target={target}
      zone={zone}
      conversations={items}
      onClose={onClose}
      onSaved={(message) => {
        onClose();
        onSaved(message);
      }}
    />
  );
}
