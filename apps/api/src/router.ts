import { authRouter } from './routers/auth/auth.router.ts';
import { router } from './trpc/init.ts';

/** The whole API. Procedure paths are a public contract: rename nothing without a migration path. */
export const appRouter = router({
  auth: authRouter,
});

export type AppRouter = typeof appRouter;
