import { userByUsername } from '@securechat/db';
import { verifyPassword } from '../../auth/password.ts';
import { DomainError, rateLimited } from '../../errors.ts';
import type { Context } from '../../trpc/context.ts';
import type { LoginInput } from './auth.schema.ts';
import { setKnownDeviceCookie, setSessionCookie } from './session-cookie.ts';

const WRONG_CREDENTIALS = 'Wrong username or password';

/**
 * Signs in. An unknown user and a wrong password take the same path (a full Argon2 verify) and
 * give the same error, so neither timing nor message tells whether the account exists.
 */
export async function login(ctx: Context, input: LoginInput) {
  const { deps, meta } = ctx;
  const user = userByUsername(deps.db, input.username);
  const knownDevice =
    user !== undefined && deps.throttle.knownDeviceUser(ctx.knownDeviceCookie) === user.id;
  const verdict = deps.throttle.check(meta.ip, input.username, knownDevice);
  if (!verdict.allowed) {
    throw rateLimited(
      `Too many failed sign-ins; try again in ${verdict.retryAfterSeconds} seconds`,
      verdict.retryAfterSeconds,
    );
  }
  const ok = await verifyPassword(user?.passwordHash ?? deps.dummyPasswordHash, input.password);
  if (!user || !ok) {
    deps.throttle.recordFailure(meta.ip, input.username, knownDevice);
    deps.logger.info({ event: 'auth.login_failed', ip: meta.ip, requestId: meta.requestId });
    throw new DomainError('unauthenticated', WRONG_CREDENTIALS);
  }
  const { token } = deps.sessions.create(user.id, meta.userAgent);
  deps.bus.publish('sessions.changed', { userId: user.id });
  deps.logger.info({ event: 'auth.login', userId: user.id, requestId: meta.requestId });
  const dto = { id: user.id, username: user.username };
  if (input.bearer) return { user: dto, token };
  setSessionCookie(ctx, token);
  setKnownDeviceCookie(ctx, user.id);
  return { user: dto };
}
