export { createDb, type Db, type DbHandle, type CreateDbOptions } from './client.ts';
export { runMigrations, migrationsFolder } from './migrate.ts';
export * from './queries/users.ts';
export * from './queries/sessions.ts';
export type { User, NewUser, Session, NewSession } from './schema/index.ts';
