/** The API's type-only surface for clients: `import type { AppRouter } from '@securechat/api'`. */
export type { AppRouter } from './router.ts';
export type { Config } from './env.ts';
