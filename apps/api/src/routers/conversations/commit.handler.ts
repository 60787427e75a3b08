import { activeDevicesOf, commitEpoch, userById } from '@securechat/db';
import { DomainError, invalidField, notFound } from '../../errors.ts';
import { publishEvents } from '../../events/publish.ts';
import { requireDevice, requireMember, type AuthedContext } from '../access.ts';
import type { CommitInput } from './conversations.schema.ts';

/**
 * Starts a conversation's next epoch (§3.5): the signed roster, one envelope per device of every
 * member afterwards, and any membership change, accepted only if the conversation is still at
 * `expectedEpoch`. Everything is checked inside the transaction that applies it.
 */
export function commit(ctx: AuthedContext, input: CommitInput) {
  const { db, hub } = ctx.deps;
  const deviceId = requireDevice(ctx);
  requireMember(ctx, input.conversationId);

  const result = commitEpoch(
    db,
    {
      conversationId: input.conversationId,
      expectedEpoch: input.expectedEpoch,
      roster: input.roster,
      committedByUser: ctx.user.id,
      committedByDevice: deviceId,
      add: input.add,
      remove: input.remove,
      envelopes: input.envelopes,
    },
    (conversation, before, after) => {
      const me = before.find((m) => m.userId === ctx.user.id);
      if (!me) throw notFound('No such conversation');
      const changes = input.add.length + input.remove.length;
      if (changes > 0) {
        if (conversation.kind !== 'group') {
          throw new DomainError('invalid', 'Only groups change members');
        }
        if (me.role !== 'admin') {
          throw new DomainError('forbidden', 'Only admins can change who is in this conversation');
        }
      }
      if (input.remove.includes(ctx.user.id)) {
        throw invalidField('remove', 'To leave, use conversations.leave');
      }
      const current = new Set(before.map((m) => m.userId));
      for (const userId of input.remove) {
        if (!current.has(userId)) throw invalidField('remove', 'Not a member');
      }
      for (const { userId } of input.add) {
        if (current.has(userId)) throw invalidField('add', 'Already a member');
        if (!userById(db, userId)) throw invalidField('add', 'No such user');
      }
      if (after.length > 1000) throw invalidField('add', 'A group has at most 1000 members');
      // Every active device of every member afterwards gets the new secret, except the
      // committing device, which made it. A mismatch means the committer's view of someone's
      // devices is out of date: it must refetch and commit again.
      const expected = new Set(
        activeDevicesOf(db, after)
          .map((d) => d.id)
          .filter((id) => id !== deviceId),
      );
      const given = new Set(input.envelopes.map((e) => e.recipientDeviceId));
      const devicesOfAfter = new Map(activeDevicesOf(db, after).map((d) => [d.id, d.userId]));
      for (const e of input.envelopes) {
        if (devicesOfAfter.get(e.recipientDeviceId) !== e.recipientUserId) {
          throw new DomainError(
            'stale',
            'An envelope is addressed to a device that is not a member’s; refresh device lists',
          );
        }
      }
      if (
        given.size !== input.envelopes.length ||
        given.size !== expected.size ||
        [...expected].some((id) => !given.has(id))
      ) {
        throw new DomainError(
          'stale',
          'Members’ devices changed; refresh device lists and commit again',
        );
      }
    },
    new Date(),
  );

  if (!result.ok) {
    if (result.reason === 'not_found') throw notFound('No such conversation');
    throw new DomainError(
      'stale',
      result.currentEpoch === null
        ? 'The conversation has no epoch yet; commit the first with expectedEpoch null'
        : `The conversation is at epoch ${result.currentEpoch}; refresh and commit again`,
    );
  }
  hub.invalidateMembers(input.conversationId);
  publishEvents(db, hub, result.events);
  return { epoch: result.epoch };
}
