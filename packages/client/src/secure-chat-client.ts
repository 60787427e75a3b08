import { createTransport, type ApiClient, type CreateClientOptions } from './client.ts';

/** The SecureChat client for services and browsers. */
export interface SecureChatClient {
  /** The raw typed tRPC client. */
  readonly api: ApiClient;
  /** The bearer token in use (Node and services), or null in cookie mode (browsers). */
  readonly token: string | null;
  auth: {
    /** Creates an account and signs in. In bearer mode the client keeps the token. */
    register(username: string, password: string): Promise<{ id: string; username: string }>;
    /** Signs in. In bearer mode the client keeps the token. */
    login(username: string, password: string): Promise<{ id: string; username: string }>;
    /** Ends this session. */
    logout(): Promise<void>;
  };
  /** Ends everything: closes the WebSocket. */
  close(): void;
}

/**
 * Creates a client. With `token` (or after `auth.login` in Node, where there are no cookies) it
 * uses bearer mode; in a browser without a token it uses the session cookie.
 */
export function createClient(options: CreateClientOptions = {}): SecureChatClient {
  const transport = createTransport(options);
  // Browsers hold the session in an HttpOnly cookie; everything else needs a bearer token.
  const bearer =
    options.token !== undefined ||
    typeof (globalThis as { document?: unknown }).document === 'undefined';

  return {
    get api() {
      return transport.api;
    },
    get token() {
      return transport.token;
    },
    auth: {
      async register(username, password) {
        const result = await transport.api.auth.register.mutate({ username, password, bearer });
        if (result.token) transport.setToken(result.token);
        return result.user;
      },
      async login(username, password) {
        const result = await transport.api.auth.login.mutate({ username, password, bearer });
        if ('token' in result && result.token) transport.setToken(result.token);
        return result.user;
      },
      async logout() {
        await transport.api.auth.logout.mutate();
        if (transport.token !== null) transport.setToken(null);
      },
    },
    close() {
      transport.close();
    },
  };
}
