import { contactsOf, userByUsername } from '@securechat/db';
import { z } from 'zod';
import { notFound } from '../../errors.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { usernameSchema } from '../auth/auth.schema.ts';
import { idSchema } from '../wire.ts';

export const usersRouter = router({
  /** Finds a user by username (any letter case), to start a conversation with them. */
  byUsername: authedProcedure
    .input(z.object({ username: usernameSchema }))
    .query(({ ctx, input }) => {
      const user = userByUsername(ctx.deps.db, input.username);
      if (!user) throw notFound('No user with that name');
      return { id: user.id, username: user.username };
    }),

  /** Who of these users is online now; only users who share a conversation with the caller. */
  presence: authedProcedure
    .input(z.object({ userIds: z.array(idSchema).max(1000) }))
    .query(({ ctx, input }) => {
      const contacts = new Set(contactsOf(ctx.deps.db, ctx.user.id));
      return input.userIds
        .filter((id) => contacts.has(id))
        .map((userId) => ({ userId, online: ctx.deps.hub.isOnline(userId) }));
    }),
});
