import { publicProcedureBase } from './init.ts';
import { isAuthed, limitSubscriptions, mapDomainErrors, rateLimit } from './middlewares.ts';

/** Open to anyone: rate limited by address or session. */
export const publicProcedure = publicProcedureBase.use(mapDomainErrors).use(rateLimit);

/** Requires a live session; `ctx.user` and `ctx.session` are set. */
export const authedProcedure = publicProcedure.use(isAuthed).use(limitSubscriptions);
