import { updateUserSettings, userById } from '@securechat/db';
import { z } from 'zod';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';

export const settingsRouter = router({
  /** The caller's privacy settings. */
  get: authedProcedure.query(({ ctx }) => {
    const user = userById(ctx.deps.db, ctx.user.id)!;
    return { sendReadReceipts: user.sendReadReceipts, sendTyping: user.sendTyping };
  }),

  update: authedProcedure
    .input(
      z.object({ sendReadReceipts: z.boolean().optional(), sendTyping: z.boolean().optional() }),
    )
    .mutation(({ ctx, input }) => updateUserSettings(ctx.deps.db, ctx.user.id, input)),
});
