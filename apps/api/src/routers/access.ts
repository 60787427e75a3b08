import { deviceById, membershipOf, type MemberRow } from '@securechat/db';
import { DomainError, notFound } from '../errors.ts';
import type { Context } from '../trpc/context.ts';

/** The context of an authenticated call (after `isAuthed`). */
export type AuthedContext = Context & {
  user: { id: string; username: string };
  session: { id: string; deviceId: string | null };
};

/**
 * The caller's membership, or NOT_FOUND: to an outsider a conversation's existence is itself
 * private, so "not yours" and "no such thing" look the same.
 */
export function requireMember(ctx: AuthedContext, conversationId: string): MemberRow {
  const member = membershipOf(ctx.deps.db, conversationId, ctx.user.id);
  if (!member) throw notFound('No such conversation');
  return member;
}

export function requireAdmin(ctx: AuthedContext, conversationId: string): MemberRow {
  const member = requireMember(ctx, conversationId);
  if (member.role !== 'admin') {
    throw new DomainError('forbidden', 'Only admins can change who is in this conversation');
  }
  return member;
}

/** The end-to-end device this session speaks for; it must be registered and not revoked. */
export function requireDevice(ctx: AuthedContext): string {
  const deviceId = ctx.session.deviceId;
  const device = deviceId ? deviceById(ctx.deps.db, deviceId) : undefined;
  if (!device || device.userId !== ctx.user.id || device.revokedAt !== null) {
    throw new DomainError('stale', 'Set up end-to-end encryption on this device first');
  }
  return device.id;
}
