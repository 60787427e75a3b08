/** The API's type-only surface for clients: `import type { AppRouter } from '@securechat/api'`. */
export type { AppRouter } from './router.ts';
export type { Config } from './env.ts';
export type { ServerEvent, MessageDto, EnvelopeDto } from './routers/messages/dto.ts';
