import type { EnvelopeRow, HydratedEvent, MessageRow } from '@securechat/db';
import { toBase64url } from '../wire.ts';

/** A message as clients receive it: ciphertext plus the routing header. */
export function toMessageDto(row: MessageRow) {
  return {
    seq: row.seq,
    conversationId: row.conversationId,
    epoch: row.epoch,
    senderUserId: row.senderUserId,
    senderDeviceId: row.senderDeviceId,
    clientMessageId: row.clientMessageId,
    sentAt: row.sentAt,
    receivedAt: row.receivedAt,
    size: row.size,
    ciphertext: row.ciphertext ? toBase64url(row.ciphertext) : null,
    deleted: row.deletedAt !== null,
  };
}
export type MessageDto = ReturnType<typeof toMessageDto>;

export function toEnvelopeDto(row: EnvelopeRow) {
  return {
    id: row.id,
    conversationId: row.conversationId,
    epoch: row.epoch,
    senderUserId: row.senderUserId,
    senderDeviceId: row.senderDeviceId,
    envelope: toBase64url(row.envelope),
  };
}
export type EnvelopeDto = ReturnType<typeof toEnvelopeDto>;

/** Everything `events.onEvent` delivers. Typing and presence are never stored. */
export type ServerEvent =
  | { type: 'message'; conversationId: string; message: MessageDto }
  | { type: 'message.deleted'; conversationId: string; seq: number; clientMessageId: string }
  | { type: 'envelope'; conversationId: string; epoch: number; envelope: EnvelopeDto }
  | { type: 'commit'; conversationId: string; epoch: number }
  | {
      type: 'membership';
      conversationId: string;
      userId: string;
      change: 'added' | 'removed' | 'left';
      by: string;
    }
  | { type: 'read'; conversationId: string; userId: string; seq: number }
  | {
      type: 'calendar';
      conversationId: string;
      eventId: string;
      change: 'created' | 'updated' | 'deleted' | 'rsvp';
    }
  | {
      type: 'calendar.reminder';
      conversationId: string;
      eventId: string;
      /** The occurrence's original start; null for a single event. */
      recurrenceId: string | null;
      start: string;
      allDay: boolean;
      minutesBefore: number;
    }
  | { type: 'typing'; conversationId: string; userId: string }
  | { type: 'presence'; userId: string; online: boolean };

/** The client-facing form of a logged event, or null for one it has nothing to show. */
export function toServerEvent({ event, message, envelope }: HydratedEvent): ServerEvent | null {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const conversationId = event.conversationId ?? '';
  switch (event.kind) {
    case 'message':
      return message ? { type: 'message', conversationId, message: toMessageDto(message) } : null;
    case 'message.deleted':
      return {
        type: 'message.deleted',
        conversationId,
        seq: event.ref ?? 0,
        clientMessageId: String(data.clientMessageId ?? ''),
      };
    case 'envelope':
      return envelope
        ? {
            type: 'envelope',
            conversationId,
            epoch: envelope.epoch,
            envelope: toEnvelopeDto(envelope),
          }
        : null;
    case 'commit':
      return { type: 'commit', conversationId, epoch: Number(data.epoch) };
    case 'membership':
      return {
        type: 'membership',
        conversationId,
        userId: String(data.userId),
        change: data.change as 'added' | 'removed' | 'left',
        by: String(data.by),
      };
    case 'read':
      return { type: 'read', conversationId, userId: String(data.userId), seq: Number(data.seq) };
    case 'calendar':
      return {
        type: 'calendar',
        conversationId,
        eventId: String(data.eventId),
        change: data.change as 'created' | 'updated' | 'deleted' | 'rsvp',
      };
    case 'calendar.reminder':
      return {
        type: 'calendar.reminder',
        conversationId,
        eventId: String(data.eventId),
        recurrenceId: typeof data.recurrenceId === 'string' ? data.recurrenceId : null,
        start: String(data.start),
        allDay: data.allDay === true,
        minutesBefore: Number(data.minutesBefore),
      };
  }
}
