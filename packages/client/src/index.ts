export {
  createClient,
  type SecureChatClient,
  type SecureChatClientOptions,
  type ConversationSummary,
  type ClientEvent,
} from './secure-chat-client.ts';
export {
  createTransport,
  type ApiClient,
  type CreateClientOptions,
  type Transport,
} from './client.ts';
export { isApiError, apiErrorCode, fieldErrors } from './errors.ts';
export { MemoryKeyStore, type KeyStore } from './key-store.ts';
export type { ChatMessage } from './e2ee/views.ts';
export {
  IdentityChangedError,
  RecoveryKeyError,
  DeviceNotSetUpError,
  NotSetUpError,
} from './e2ee/errors.ts';
export { IndexedDbKeyStore } from './key-store-idb.ts';
