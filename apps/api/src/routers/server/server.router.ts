import { router } from '../../trpc/init.ts';
import { publicProcedure } from '../../trpc/procedures.ts';

export const serverRouter = router({
  /** Public facts about this server that the UI must show, such as demo mode. */
  info: publicProcedure.query(({ ctx }) => ({ demo: ctx.deps.config.demo })),
});
