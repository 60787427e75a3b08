export {
  createDb,
  integrityCheck,
  type Db,
  type DbHandle,
  type CreateDbOptions,
} from './client.ts';
export { runMigrations, migrationsFolder } from './migrate.ts';
export * from './queries/users.ts';
export * from './queries/sessions.ts';
export * from './queries/keys.ts';
export * from './queries/devices.ts';
export * from './queries/conversations.ts';
export * from './queries/messages.ts';
export * from './queries/events.ts';
export * from './schema/index.ts';
export * from './queries/files.ts';
export * from './queries/calendar.ts';
