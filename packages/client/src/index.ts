export { createClient, type SecureChatClient } from './secure-chat-client.ts';
export {
  createTransport,
  type ApiClient,
  type CreateClientOptions,
  type Transport,
} from './client.ts';
export { isApiError, apiErrorCode, fieldErrors } from './errors.ts';
