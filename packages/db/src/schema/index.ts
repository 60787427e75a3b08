export * from './users.ts';
export * from './keys.ts';
export * from './conversations.ts';
export * from './files.ts';
export * from './devices.ts';
export * from './calendar.ts';
