import type { EventRow, HydratedEvent } from '@securechat/db';
import { hydrate, type Db } from '@securechat/db';
import { toServerEvent } from '../routers/messages/dto.ts';
import type { Audience, Hub } from './hub.ts';

/** Who a logged event is addressed to, by its routing columns. */
export function audienceOf(event: EventRow): Audience | null {
  if (event.deviceId) return { deviceId: event.deviceId };
  if (event.userId) return { userId: event.userId };
  if (event.conversationId) return { conversationId: event.conversationId };
  return null;
}

/** Sends freshly committed events to whoever is subscribed. */
export function publishEvents(db: Db, hub: Hub, rows: EventRow[]): void {
  const hydrated: HydratedEvent[] = hydrate(db, rows);
  for (const entry of hydrated) {
    const audience = audienceOf(entry.event);
    const payload = toServerEvent(entry);
    if (audience && payload) hub.publish(entry.event.id, payload, audience);
  }
}
