import { updatePasswordHash, userById } from '@securechat/db';
import { hashPassword, isCommonPassword, verifyPassword } from '../../auth/password.ts';
import { DomainError, invalidField, rateLimited } from '../../errors.ts';
import type { Context } from '../../trpc/context.ts';
import type { ChangePasswordInput } from './auth.schema.ts';

/** Changes the password after checking the current one, then ends the user's other sessions. */
export async function changePassword(
  ctx: Context & { user: { id: string; username: string }; session: { id: string } },
  input: ChangePasswordInput,
) {
  const { deps, meta } = ctx;
  const verdict = deps.throttle.check(meta.ip, ctx.user.username, true);
  if (!verdict.allowed) {
    throw rateLimited('Too many failed attempts; try again later', verdict.retryAfterSeconds);
  }
  const user = userById(deps.db, ctx.user.id);
  if (!user || !(await verifyPassword(user.passwordHash, input.current))) {
    deps.throttle.recordFailure(meta.ip, ctx.user.username, true);
    throw new DomainError('invalid', 'Current password is wrong', {
      current: ['Current password is wrong'],
    });
  }
  if (isCommonPassword(input.next)) {
    throw invalidField('next', 'This password is too common; choose another');
  }
  if (input.next === input.current) {
    throw invalidField('next', 'The new password must differ from the current one');
  }
  updatePasswordHash(deps.db, user.id, await hashPassword(input.next));
  const ended = deps.sessions.revokeOthers(user.id, ctx.session.id);
  deps.bus.publish('sessions.changed', { userId: user.id });
  deps.logger.info({ event: 'auth.password_changed', userId: user.id, endedSessions: ended });
  return { endedSessions: ended };
}
