import {
  createMessageInserter,
  type Db,
  type InsertMessageResult,
  type NewMessage,
} from '@securechat/db';
import type { Hub } from '../../events/hub.ts';
import { toMessageDto } from './dto.ts';

/**
 * Group commit for sends: the sends that arrive in one event-loop turn are written in one
 * immediate transaction (one fsync with `synchronous=FULL`), and each is acknowledged only after
 * that transaction commits, so an acknowledged message is on disk. Fan-out happens after commit.
 */
export function createMessageWriter(db: Db, hub: Hub, now: () => Date = () => new Date()) {
  let batch: {
    message: NewMessage;
    resolve(r: InsertMessageResult): void;
    reject(e: unknown): void;
  }[] = [];
  let scheduled = false;
  const insertMessages = createMessageInserter(db);

  function flush() {
    scheduled = false;
    const current = batch;
    batch = [];
    let results: InsertMessageResult[];
    try {
      results = insertMessages(
        current.map((entry) => entry.message),
        now(),
      );
    } catch (error) {
      for (const entry of current) entry.reject(error);
      return;
    }
    results.forEach((result, i) => {
      current[i]!.resolve(result);
      if (result.ok && result.event) {
        hub.publish(
          result.event.id,
          {
            type: 'message',
            conversationId: result.message.conversationId,
            message: toMessageDto(result.message),
          },
          { conversationId: result.message.conversationId },
        );
      }
    });
  }

  return {
    write(message: NewMessage): Promise<InsertMessageResult> {
      return new Promise((resolve, reject) => {
        batch.push({ message, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}

export type MessageWriter = ReturnType<typeof createMessageWriter>;
