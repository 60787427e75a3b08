import { authRouter } from './routers/auth/auth.router.ts';
import { calendarRouter } from './routers/calendar/calendar.router.ts';
import { backupRouter } from './routers/devices/backup.router.ts';
import { devicesRouter } from './routers/devices/devices.router.ts';
import { conversationsRouter } from './routers/conversations/conversations.router.ts';
import { eventsRouter } from './routers/events/events.router.ts';
import { filesRouter } from './routers/files/files.router.ts';
import { keysRouter } from './routers/keys/keys.router.ts';
import { messagesRouter } from './routers/messages/messages.router.ts';
import { serverRouter } from './routers/server/server.router.ts';
import { settingsRouter } from './routers/settings/settings.router.ts';
import { usersRouter } from './routers/users/users.router.ts';
import { router } from './trpc/init.ts';

/** The whole API. Procedure paths are a public contract: rename nothing without a migration path. */
export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  keys: keysRouter,
  devices: devicesRouter,
  backup: backupRouter,
  conversations: conversationsRouter,
  messages: messagesRouter,
  events: eventsRouter,
  files: filesRouter,
  calendar: calendarRouter,
  settings: settingsRouter,
  server: serverRouter,
});

export type AppRouter = typeof appRouter;
