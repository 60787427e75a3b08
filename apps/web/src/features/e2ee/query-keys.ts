/**
 * React Query keys of the end-to-end data, under one prefix per user so signing out (which drops
 * every query but `auth.me`) or switching accounts never shows one user's cache to another.
 */
export const e2eeKeys = {
  all: (userId: string) => ['e2ee', userId] as const,
  status: (userId: string) => ['e2ee', userId, 'status'] as const,
  conversations: (userId: string) => ['e2ee', userId, 'conversations'] as const,
  messages: (userId: string, conversationId: string) =>
    ['e2ee', userId, 'messages', conversationId] as const,
  allMessages: (userId: string) => ['e2ee', userId, 'messages'] as const,
  presence: (userId: string) => ['e2ee', userId, 'presence'] as const,
  contact: (userId: string, contactId: string) => ['e2ee', userId, 'contact', contactId] as const,
  search: (userId: string, query: string) => ['e2ee', userId, 'search', query] as const,
  devices: (userId: string) => ['e2ee', userId, 'devices'] as const,
  backup: (userId: string) => ['e2ee', userId, 'backup'] as const,
};
