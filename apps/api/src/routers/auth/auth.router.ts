import { notFound } from '../../errors.ts';
import { listen } from '../../events/bus.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure, publicProcedure } from '../../trpc/procedures.ts';
import {
  changePasswordInput,
  loginInput,
  registerInput,
  revokeSessionInput,
} from './auth.schema.ts';
import { changePassword } from './change-password.handler.ts';
import { login } from './login.handler.ts';
import { register } from './register.handler.ts';
import { clearSessionCookie } from './session-cookie.ts';

export const authRouter = router({
  register: publicProcedure.input(registerInput).mutation(({ ctx, input }) => register(ctx, input)),

  login: publicProcedure.input(loginInput).mutation(({ ctx, input }) => login(ctx, input)),

  logout: authedProcedure.mutation(({ ctx }) => {
    ctx.deps.sessions.invalidate(ctx.session.id, ctx.user.id);
    ctx.deps.bus.publish('sessions.changed', { userId: ctx.user.id });
    clearSessionCookie(ctx);
    return { ok: true as const };
  }),

  /** The signed-in user, or null. */
  me: publicProcedure.query(({ ctx }) => {
    const valid = ctx.sessionId ? ctx.deps.sessions.validate(ctx.sessionId) : null;
    return valid ? { id: valid.user.id, username: valid.user.username } : null;
  }),

  changePassword: authedProcedure
    .input(changePasswordInput)
    .mutation(({ ctx, input }) => changePassword(ctx, input)),

  sessions: router({
    list: authedProcedure.query(({ ctx }) =>
      ctx.deps.sessions.list(ctx.user.id).map((session) => ({
        id: session.id,
        userAgent: session.userAgent,
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        expiresAt: session.expiresAt,
        current: session.id === ctx.session.id,
      })),
    ),

    revoke: authedProcedure.input(revokeSessionInput).mutation(({ ctx, input }) => {
      if (!ctx.deps.sessions.revokeForUser(ctx.user.id, input.id)) {
        throw notFound('No such session');
      }
      ctx.deps.bus.publish('sessions.changed', { userId: ctx.user.id });
      if (input.id === ctx.session.id) clearSessionCookie(ctx);
      return { ok: true as const };
    }),

    /** Fires whenever the user's sessions change, so a settings screen can refresh its list. */
    onChange: authedProcedure.subscription(async function* ({ ctx, signal }) {
      const userId = ctx.user.id;
      for await (const _ of listen(ctx.deps.bus, 'sessions.changed', {
        signal,
        filter: (event) => event.userId === userId,
      })) {
        yield { at: new Date() };
      }
    }),
  }),
});
