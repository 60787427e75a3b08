import { randomBytes } from 'node:crypto';
import {
  conversationById,
  conversationsOfUser,
  createConversation,
  envelopesFor,
  leaveConversation,
  membersOf,
  messagePage,
  rosterOf,
  userByUsername,
  type ConversationRow,
  type Db,
} from '@securechat/db';
import { DomainError, invalidField, notFound } from '../../errors.ts';
import { publishEvents } from '../../events/publish.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireDevice, requireMember, type AuthedContext } from '../access.ts';
import { toEnvelopeDto, toMessageDto } from '../messages/dto.ts';
import { toBase64url } from '../wire.ts';
import { commit } from './commit.handler.ts';
import {
  commitInput,
  conversationIdInput,
  createGroupInput,
  openDirectInput,
  rosterInput,
} from './conversations.schema.ts';

const newId = () => randomBytes(16).toString('hex');

function toConversationDto(
  db: Db,
  conversation: ConversationRow,
  extra: { role: string; unread: number; lastReadSeq: number },
) {
  const [last] = messagePage(db, conversation.id, null, 1);
  return {
    id: conversation.id,
    kind: conversation.kind,
    epoch: conversation.epoch,
    needsRotation: conversation.needsRotation,
    createdAt: conversation.createdAt,
    lastActivityAt: conversation.lastActivityAt,
    role: extra.role,
    unread: extra.unread,
    lastReadSeq: extra.lastReadSeq,
    members: membersOf(db, conversation.id).map((m) => ({
      userId: m.userId,
      username: m.username,
      role: m.role,
      // A member who keeps read receipts private shows no read position.
      lastReadSeq: m.sendReadReceipts ? m.lastReadSeq : null,
    })),
    lastMessage: last ? toMessageDto(last) : null,
  };
}

function opened(ctx: AuthedContext, result: ReturnType<typeof createConversation>) {
  if (result.created) {
    ctx.deps.hub.invalidateMembers(result.conversation.id);
    publishEvents(ctx.deps.db, ctx.deps.hub, result.events);
  }
  return { id: result.conversation.id, created: result.created };
}

export const conversationsRouter = router({
  /** The direct conversation with a user, created on first use; there is only ever one per pair. */
  openDirect: authedProcedure.input(openDirectInput).mutation(({ ctx, input }) => {
    const other = userByUsername(ctx.deps.db, input.username);
    if (!other) throw invalidField('username', 'No user with that name');
    if (other.id === ctx.user.id) {
      throw invalidField('username', 'That is you: use your notes conversation');
    }
    const pair = [ctx.user.id, other.id].sort();
    const result = createConversation(
      ctx.deps.db,
      {
        id: newId(),
        kind: 'direct',
        uniqueKey: `direct:${pair[0]}:${pair[1]}`,
        createdBy: ctx.user.id,
        members: [
          { userId: ctx.user.id, role: 'member' },
          { userId: other.id, role: 'member' },
        ],
      },
      new Date(),
    );
    return opened(ctx, result);
  }),

  /** The caller's own notes conversation (also where private calendar events live). */
  openNotes: authedProcedure.mutation(({ ctx }) => {
    const result = createConversation(
      ctx.deps.db,
      {
        id: newId(),
        kind: 'notes',
        uniqueKey: `notes:${ctx.user.id}`,
        createdBy: ctx.user.id,
        members: [{ userId: ctx.user.id, role: 'admin' }],
      },
      new Date(),
    );
    return opened(ctx, result);
  }),

  /** A new group with the caller as admin. Its title travels encrypted in the first commit. */
  createGroup: authedProcedure.input(createGroupInput).mutation(({ ctx, input }) => {
    const others = new Map<string, string>();
    for (const username of input.members) {
      const user = userByUsername(ctx.deps.db, username);
      if (!user) throw invalidField('members', `No user named ${username}`);
      if (user.id !== ctx.user.id) others.set(user.id, user.username);
    }
    const result = createConversation(
      ctx.deps.db,
      {
        id: newId(),
        kind: 'group',
        uniqueKey: null,
        createdBy: ctx.user.id,
        members: [
          { userId: ctx.user.id, role: 'admin' },
          ...[...others.keys()].map((userId) => ({ userId, role: 'member' as const })),
        ],
      },
      new Date(),
    );
    return opened(ctx, result);
  }),

  /** The caller's conversations, most recently active first, with unread counts. */
  list: authedProcedure.query(({ ctx }) =>
    conversationsOfUser(ctx.deps.db, ctx.user.id).map((s) =>
      toConversationDto(ctx.deps.db, s.conversation, s),
    ),
  ),

  byId: authedProcedure.input(conversationIdInput).query(({ ctx, input }) => {
    const member = requireMember(ctx, input.conversationId);
    const summary = conversationsOfUser(ctx.deps.db, ctx.user.id).find(
      (s) => s.conversation.id === input.conversationId,
    );
    const conversation =
      summary?.conversation ?? conversationById(ctx.deps.db, input.conversationId)!;
    return toConversationDto(ctx.deps.db, conversation, {
      role: member.role,
      unread: summary?.unread ?? 0,
      lastReadSeq: member.lastReadSeq,
    });
  }),

  /**
   * What this device needs to hold the conversation's keys: the current epoch and roster, and
   * every envelope addressed to this device in it.
   */
  keyState: authedProcedure.input(conversationIdInput).query(({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    const deviceId = requireDevice(ctx);
    const conversation = conversationById(ctx.deps.db, input.conversationId)!;
    const roster =
      conversation.epoch !== null
        ? rosterOf(ctx.deps.db, conversation.id, conversation.epoch)
        : undefined;
    return {
      epoch: conversation.epoch,
      needsRotation: conversation.needsRotation,
      roster: roster ? toBase64url(roster) : null,
      members: membersOf(ctx.deps.db, conversation.id).map((m) => ({
        userId: m.userId,
        username: m.username,
        role: m.role,
      })),
      envelopes: envelopesFor(ctx.deps.db, deviceId, conversation.id).map(toEnvelopeDto),
    };
  }),

  /** The signed roster of one epoch, to verify messages of that epoch. */
  roster: authedProcedure.input(rosterInput).query(({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    const roster = rosterOf(ctx.deps.db, input.conversationId, input.epoch);
    if (!roster) throw notFound('No such epoch');
    return { roster: toBase64url(roster) };
  }),

  commit: authedProcedure.input(commitInput).mutation(({ ctx, input }) => commit(ctx, input)),

  /**
   * Leaves a group. The leaver does not choose the next epoch's secret (it would know it): the
   * conversation is marked, and a remaining member rotates before anyone's next message.
   */
  leave: authedProcedure.input(conversationIdInput).mutation(({ ctx, input }) => {
    const conversation = conversationById(ctx.deps.db, input.conversationId);
    requireMember(ctx, input.conversationId);
    if (conversation?.kind !== 'group') {
      throw new DomainError('invalid', 'Only groups can be left');
    }
    const events = leaveConversation(ctx.deps.db, input.conversationId, ctx.user.id, new Date());
    if (!events) throw notFound('No such conversation');
    ctx.deps.hub.invalidateMembers(input.conversationId);
    publishEvents(ctx.deps.db, ctx.deps.hub, events);
    return { ok: true as const };
  }),
});
