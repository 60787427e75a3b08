import { deviceById, eventsAfter } from '@securechat/db';
import { tracked } from '@trpc/server';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { DomainError, conflict } from '../../errors.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireDevice, type AuthedContext } from '../access.ts';
import { takeEventSubscriptionId } from '../../ws/connections.ts';
import { toServerEvent, type ServerEvent } from '../messages/dto.ts';

const BACKLOG_PAGE = 500;
const BACKLOG_HIGH_WATER = 1024 * 1024;

/** Waits until the socket has sent most of what it was given, so a long backlog streams. */
async function drained(socket: WebSocket, signal: AbortSignal | undefined): Promise<void> {
  while (
    socket.bufferedAmount > BACKLOG_HIGH_WATER &&
    !signal?.aborted &&
    socket.readyState === 1
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const onEventInput = z.object({
  /** A random id the client picks per stream; it ties this stream to its WebSocket frames. */
  streamId: z.string().min(8).max(64),
  /** The last event this device processed; omitted on its first connect. */
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/, 'lastEventId must be an event id')
    .nullish(),
});

type OnEventInput = z.infer<typeof onEventInput>;

/**
 * The stream behind `events.onEvent`. It takes the call's context and input out of `call` and
 * clears it, so that once live it holds only what it needs (socket, attachment, signal): an
 * async generator keeps its arguments for as long as it is suspended, which for this stream is
 * the connection's whole life, and the context pins the session row, the user and the request.
 */
async function* eventStream(
  call: { ctx: AuthedContext; input: OnEventInput } | null,
  signal: AbortSignal | undefined,
) {
  const { ctx, input } = call!;
  call = null;
  const connection = ctx.connection;
  if (!connection) throw new DomainError('invalid', 'Subscribe to events over the WebSocket');
  const subscriptionId = takeEventSubscriptionId(connection, input.streamId);
  if (subscriptionId === undefined) throw new DomainError('invalid', 'Unknown streamId');
  if (connection.eventStreamOpen) throw conflict('This connection already has an events stream');
  const deviceId = requireDevice(ctx);
  const { db, hub } = ctx.deps;
  const target = { userId: ctx.user.id, deviceId };
  // A device's first stream starts where the device was added, so nothing addressed to it
  // since (its first envelopes, messages sent while it was connecting) is missed.
  let cursor = input.lastEventId
    ? Number(input.lastEventId)
    : (deviceById(db, deviceId)?.createdAfterEventId ?? 0);

  connection.eventStreamOpen = true;
  const attachment = hub.attach({
    socket: connection.socket,
    subscriptionId,
    userId: ctx.user.id,
    deviceId,
    lastEventId: cursor,
  });
  try {
    for (;;) {
      const page = eventsAfter(db, target, cursor, BACKLOG_PAGE);
      for (const entry of page) {
        cursor = entry.event.id;
        const event: ServerEvent | null = toServerEvent(entry);
        if (event) yield tracked(String(entry.event.id), event);
      }
      if (page.length < BACKLOG_PAGE) break;
      await drained(connection.socket, signal);
    }
    // Everything up to `cursor` is sent; the hub now writes live events itself.
    attachment.goLive(cursor);
    if (!signal?.aborted) {
      await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    attachment.detach();
    connection.eventStreamOpen = false;
  }
}

export const eventsRouter = router({
  /**
   * Everything a device needs, on one subscription per connection: messages, envelopes for this
   * device, membership changes, read markers, typing and presence. Durable events are `tracked`
   * by their id; resuming with `lastEventId` replays exactly what was missed. The live feed is
   * attached (buffering) before the backlog is read, so nothing falls in between; after the
   * backlog, live events are written by the hub, serialized once for all subscribers.
   */
  onEvent: authedProcedure
    .input(onEventInput)
    .subscription(({ ctx, input, signal }) => eventStream({ ctx, input }, signal)),
});

/** The type of each event the subscription yields (also what the hub writes). */
export type { ServerEvent };
