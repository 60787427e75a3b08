import { randomBytes } from 'node:crypto';
import { insertUser } from '@securechat/db';
import { hashPassword, isCommonPassword } from '../../auth/password.ts';
import { conflict, invalidField } from '../../errors.ts';
import type { Context } from '../../trpc/context.ts';
import type { RegisterInput } from './auth.schema.ts';
import { setKnownDeviceCookie, setSessionCookie } from './session-cookie.ts';

/** Creates an account and signs it in: a cookie for browsers, or a bearer token on request. */
export async function register(ctx: Context, input: RegisterInput) {
  const { deps } = ctx;
  if (isCommonPassword(input.password) && !(deps.config.demo && input.password === 'password123')) {
    throw invalidField('password', 'This password is too common; choose another');
  }
  if (input.password.toLowerCase().includes(input.username.toLowerCase())) {
    throw invalidField('password', 'Password must not contain the username');
  }
  const passwordHash = await hashPassword(input.password);
  const user = insertUser(deps.db, {
    id: randomBytes(16).toString('hex'),
    username: input.username,
    passwordHash,
    createdAt: new Date(),
  });
  if (!user) throw conflict('That username is taken');
  const { token } = deps.sessions.create(user.id, ctx.meta.userAgent);
  deps.bus.publish('sessions.changed', { userId: user.id });
  deps.logger.info({ event: 'user.registered', userId: user.id, requestId: ctx.meta.requestId });
  const dto = { id: user.id, username: user.username };
  if (input.bearer) return { user: dto, token };
  setSessionCookie(ctx, token);
  setKnownDeviceCookie(ctx, user.id);
  return { user: dto, token: null };
}
