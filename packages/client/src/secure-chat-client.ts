import type { ServerEvent } from '@securechat/api';
import {
  AuthenticationError,
  fromHex,
  randomBytes,
  safetyNumber,
  toHex,
  type Content,
} from '@securechat/crypto';
import { createTransport, type ApiClient, type CreateClientOptions } from './client.ts';
import { Engine, type EngineNotice } from './e2ee/engine.ts';
import { LocalState, type MessageRecord } from './e2ee/local-state.ts';
import { buildViews, isModifier, type ChatMessage } from './e2ee/views.ts';
import { MemoryKeyStore, type KeyStore } from './key-store.ts';

/** Options of {@link createClient}: the transport's, plus where keys are kept. */
export interface SecureChatClientOptions extends CreateClientOptions {
  /** Where keys and local state live; defaults to memory (lost when the process ends). */
  keyStore?: KeyStore;
  /** This device's name as contacts see it in its certificate. */
  deviceName?: string;
}

export interface ConversationSummary {
  id: string;
  kind: 'direct' | 'group' | 'notes';
  /** The group's title, the other member's name for a direct conversation, or "Notes". */
  title: string;
  role: 'admin' | 'member';
  members: { id: string; username: string; role: 'admin' | 'member'; lastReadSeq: number | null }[];
  unread: number;
  lastActivityAt: Date;
  lastMessage: ChatMessage | null;
}

/** Decrypted events, in the order the server logged them. */
export type ClientEvent =
  | { type: 'message'; message: ChatMessage }
  | {
      type: 'message.edited';
      conversationId: string;
      messageId: string;
      text: string;
      editedAt: Date;
    }
  | {
      type: 'reaction';
      conversationId: string;
      messageId: string;
      userId: string;
      emoji: string;
      removed: boolean;
    }
  | { type: 'message.deleted'; conversationId: string; messageId: string }
  | { type: 'conversation.title'; conversationId: string; title: string }
  | {
      type: 'membership';
      conversationId: string;
      userId: string;
      change: 'added' | 'removed' | 'left';
      by: string;
    }
  | { type: 'read'; conversationId: string; userId: string; seq: number }
  | { type: 'typing'; conversationId: string; userId: string }
  | { type: 'presence'; userId: string; online: boolean }
  | EngineNotice;

type User = { id: string; username: string };

/** The SecureChat client for services and browsers: the API plus end-to-end encryption. */
export interface SecureChatClient {
  /** The raw typed tRPC client. */
  readonly api: ApiClient;
  /** The bearer token in use (Node and services), or null in cookie mode (browsers). */
  readonly token: string | null;
  auth: {
    register(username: string, password: string): Promise<User>;
    login(username: string, password: string): Promise<User>;
    logout(): Promise<void>;
  };
  devices: {
    /** Whether this device holds end-to-end keys for the signed-in user. */
    isSetUp(): Promise<boolean>;
    /** First device of a user: creates the identity; returns the recovery key to keep safe. */
    setup(): Promise<{ recoveryKey: string }>;
    /** A further device: restores the identity from the recovery key and adds this device. */
    recover(recoveryKey: string): Promise<void>;
  };
  conversations: {
    openDirect(username: string): Promise<{ id: string }>;
    openNotes(): Promise<{ id: string }>;
    createGroup(input: { title: string; members: string[] }): Promise<{ id: string }>;
    addMember(conversationId: string, username: string): Promise<void>;
    removeMember(conversationId: string, username: string): Promise<void>;
    leave(conversationId: string): Promise<void>;
    list(): Promise<ConversationSummary[]>;
  };
  messages: {
    send(
      conversationId: string,
      input: { text: string; replyTo?: string },
    ): Promise<{ id: string }>;
    edit(conversationId: string, messageId: string, text: string): Promise<{ id: string }>;
    delete(conversationId: string, messageId: string): Promise<void>;
    react(
      conversationId: string,
      messageId: string,
      emoji: string,
      options?: { remove?: boolean },
    ): Promise<{ id: string }>;
    /** Decrypted messages, newest first; `before` is a message id from an earlier page. */
    list(
      conversationId: string,
      options?: { before?: string; limit?: number },
    ): Promise<ChatMessage[]>;
    markRead(conversationId: string, messageId: string): Promise<void>;
    typing(conversationId: string): Promise<void>;
  };
  contacts: {
    /** The 60-digit safety number with a user, identical on both sides (§3.10). */
    safetyNumber(userId: string): Promise<string>;
    markVerified(userId: string, verified?: boolean): Promise<void>;
    /** Accepts a contact's new identity after comparing the new safety number. */
    acceptIdentityChange(userId: string): Promise<void>;
  };
  /** Decrypted events for this device; reconnects and resumes by itself. */
  events(): AsyncIterableIterator<ClientEvent>;
  /** Ends everything: open event streams and the WebSocket. */
  close(): void;
}

/**
 * Creates a client. In Node it works in bearer mode (the token from `auth.login`); in a browser
 * without a token, with the session cookie. End-to-end operations need `devices.setup()` (first
 * device) or `devices.recover()` (further devices) once per device and key store.
 */
export function createClient(options: SecureChatClientOptions = {}): SecureChatClient {
  const transport = createTransport(options);
  const keyStore = options.keyStore ?? new MemoryKeyStore();
  const deviceName = options.deviceName ?? 'SecureChat client';
  const bearer =
    options.token !== undefined ||
    typeof (globalThis as { document?: unknown }).document === 'undefined';
  const listeners = new Set<(event: ClientEvent) => void>();
  const usernames = new Map<string, string>();
  const closers = new Set<() => void>();
  let engine: Engine | null = null;
  let me: User | null = null;

  const emit = (event: ClientEvent) => {
    for (const listener of listeners) listener(event);
  };
  const signedIn = (user: User) => {
    if (me?.id !== user.id) engine = null;
    me = user;
    usernames.set(user.id, user.username);
  };
  async function getEngine(): Promise<Engine> {
    if (!me) {
      const user = await transport.api.auth.me.query();
      if (!user) throw new Error('Sign in first');
      signedIn(user);
    }
    engine ??= new Engine(transport.api, new LocalState(keyStore, me!.id), me!, emit);
    return engine;
  }
  const username = (id: string) => usernames.get(id) ?? 'unknown';
  const learn = (members: { userId: string; username: string }[]) => {
    for (const m of members) usernames.set(m.userId, m.username);
  };
  async function userIdOf(name: string): Promise<string> {
    const user = await transport.api.users.byUsername.query({ username: name });
    usernames.set(user.id, user.username);
    return user.id;
  }
  async function sendContent(conversationId: string, content: Content): Promise<MessageRecord> {
    const e = await getEngine();
    return e.withLock(conversationId, () => e.send(conversationId, content));
  }
  /** Decrypts (once) and records what a control message says, wherever it was read. */
  async function receive(e: Engine, dto: Parameters<Engine['receive']>[0]): Promise<MessageRecord> {
    const record = await e.withLock(dto.conversationId, () => e.receive(dto));
    const content = record.content;
    if (content?.type === 'control' && content.control.kind === 'title') {
      await new LocalState(keyStore, e.me.id).setTitle(
        record.conversationId,
        content.control.title,
      );
    }
    return record;
  }
  async function ensureUsernames(conversationId: string, records: MessageRecord[]) {
    if (records.every((r) => usernames.has(r.senderUserId))) return;
    const conversation = await transport.api.conversations.byId.query({ conversationId });
    learn(conversation.members);
  }
  async function modifiersOf(e: Engine, conversationId: string): Promise<MessageRecord[]> {
    const local = new LocalState(keyStore, e.me.id);
    return (await local.messagesOf(conversationId)).filter(isModifier);
  }
  async function viewOf(e: Engine, record: MessageRecord): Promise<ChatMessage | undefined> {
    await ensureUsernames(record.conversationId, [record]);
    return buildViews([record], await modifiersOf(e, record.conversationId), username)[0];
  }

  const client: SecureChatClient = {
    get api() {
      return transport.api;
    },
    get token() {
      return transport.token;
    },
    auth: {
      async register(name, password) {
        const result = await transport.api.auth.register.mutate({
          username: name,
          password,
          bearer,
        });
        if (result.token) transport.setToken(result.token);
        signedIn(result.user);
        return result.user;
      },
      async login(name, password) {
        const result = await transport.api.auth.login.mutate({ username: name, password, bearer });
        if ('token' in result && result.token) transport.setToken(result.token);
        signedIn(result.user);
        return result.user;
      },
      async logout() {
        await transport.api.auth.logout.mutate();
        if (transport.token !== null) transport.setToken(null);
        me = null;
        engine = null;
      },
    },
    devices: {
      async isSetUp() {
        return (await getEngine()).hasDevice();
      },
      async setup() {
        return (await getEngine()).setup(deviceName);
      },
      async recover(recoveryKey) {
        await (await getEngine()).recover(recoveryKey, deviceName);
      },
    },
    conversations: {
      async openDirect(name) {
        const { id } = await transport.api.conversations.openDirect.mutate({ username: name });
        return { id };
      },
      async openNotes() {
        const { id } = await transport.api.conversations.openNotes.mutate();
        return { id };
      },
      async createGroup({ title, members }) {
        const e = await getEngine();
        await e.device();
        const { id } = await transport.api.conversations.createGroup.mutate({ members });
        await e.withLock(id, async () => {
          await e.commit(id);
          await e.send(id, { type: 'control', control: { kind: 'title', title } });
        });
        await new LocalState(keyStore, e.me.id).setTitle(id, title);
        return { id };
      },
      async addMember(conversationId, name) {
        const e = await getEngine();
        const userId = await userIdOf(name);
        await e.withLock(conversationId, async () => {
          await e.commit(conversationId, { add: [userId] });
          // The newcomer cannot read earlier messages, so the title is said again in the new epoch.
          const title = await new LocalState(keyStore, e.me.id).getTitle(conversationId);
          if (title)
            await e.send(conversationId, { type: 'control', control: { kind: 'title', title } });
        });
      },
      async removeMember(conversationId, name) {
        const e = await getEngine();
        const userId = await userIdOf(name);
        // The commit that removes them is a new epoch: nothing sent afterwards is readable to them.
        await e.withLock(conversationId, () =>
          e.commit(conversationId, { remove: [userId] }).then(() => undefined),
        );
      },
      async leave(conversationId) {
        await transport.api.conversations.leave.mutate({ conversationId });
      },
      async list() {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        const rows = await transport.api.conversations.list.query();
        const out: ConversationSummary[] = [];
        for (const row of rows) {
          learn(row.members);
          let lastMessage: ChatMessage | null = null;
          if (row.lastMessage && (await e.hasDevice())) {
            const record = await receive(e, row.lastMessage);
            lastMessage = (await viewOf(e, record)) ?? null;
          }
          const others = row.members.filter((m) => m.userId !== e.me.id);
          const title =
            (await local.getTitle(row.id)) ??
            (row.kind === 'notes'
              ? 'Notes'
              : row.kind === 'direct'
                ? (others[0]?.username ?? 'Direct')
                : 'Group');
          out.push({
            id: row.id,
            kind: row.kind,
            title,
            role: row.role as 'admin' | 'member',
            members: row.members.map((m) => ({
              id: m.userId,
              username: m.username,
              role: m.role,
              lastReadSeq: m.lastReadSeq,
            })),
            unread: row.unread,
            lastActivityAt: row.lastActivityAt,
            lastMessage,
          });
        }
        return out;
      },
    },
    messages: {
      async send(conversationId, { text, replyTo }) {
        const record = await sendContent(conversationId, {
          type: 'text',
          text,
          replyTo: replyTo ? fromHex(replyTo, 16) : null,
        });
        return { id: record.clientMessageId };
      },
      async edit(conversationId, messageId, text) {
        const record = await sendContent(conversationId, {
          type: 'edit',
          target: fromHex(messageId, 16),
          text,
        });
        return { id: record.clientMessageId };
      },
      async delete(conversationId, messageId) {
        await transport.api.messages.delete.mutate({ conversationId, clientMessageId: messageId });
        const e = await getEngine();
        await e.withLock(conversationId, () => e.forget(conversationId, messageId));
      },
      async react(conversationId, messageId, emoji, reactOptions = {}) {
        const record = await sendContent(conversationId, {
          type: 'reaction',
          target: fromHex(messageId, 16),
          emoji,
          remove: reactOptions.remove ?? false,
        });
        return { id: record.clientMessageId };
      },
      async list(conversationId, listOptions = {}) {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        let before: number | undefined;
        if (listOptions.before) {
          before = (await local.getMessage(conversationId, listOptions.before))?.seq ?? undefined;
          if (before === undefined) throw new Error('Unknown message id for `before`');
        }
        const page = await transport.api.messages.list.query({
          conversationId,
          ...(before !== undefined ? { before } : {}),
          limit: listOptions.limit ?? 50,
        });
        const records: MessageRecord[] = [];
        // Oldest first, so each sender's chain advances in order.
        for (const dto of [...page.messages].reverse()) records.push(await receive(e, dto));
        await ensureUsernames(conversationId, records);
        return buildViews(records, await modifiersOf(e, conversationId), username).reverse();
      },
      async markRead(conversationId, messageId) {
        const e = await getEngine();
        const record = await new LocalState(keyStore, e.me.id).getMessage(
          conversationId,
          messageId,
        );
        if (record?.seq)
          await transport.api.messages.markRead.mutate({ conversationId, seq: record.seq });
      },
      async typing(conversationId) {
        await transport.api.messages.typing.mutate({ conversationId });
      },
    },
    contacts: {
      async safetyNumber(userId) {
        const e = await getEngine();
        const [mine, theirs] = await Promise.all([e.uskOf(e.me.id), e.uskOf(userId)]);
        return safetyNumber(mine, fromHex(e.me.id, 16), theirs, fromHex(userId, 16));
      },
      async markVerified(userId, verified = true) {
        await (await getEngine()).identities.markVerified(userId, verified);
      },
      async acceptIdentityChange(userId) {
        await (await getEngine()).identities.acceptChange(userId);
      },
    },
    events() {
      // An async generator's return() waits for its next yield; this one may be parked waiting
      // for events, so stopping must wake it first.
      const control = { stop: () => {} };
      const stream = eventStream(control);
      const iterator: AsyncIterableIterator<ClientEvent> = {
        next: () => stream.next(),
        return: async (value?: unknown) => {
          control.stop();
          return stream.return(value as undefined);
        },
        throw: (error?: unknown) => stream.throw(error),
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
    close() {
      for (const close of closers) close();
      transport.close();
    },
  };

  async function* eventStream(control: { stop: () => void }): AsyncGenerator<ClientEvent> {
    const e = await getEngine();
    await e.device();
    await e.maintainPrekeys();
    const local = new LocalState(keyStore, e.me.id);
    const queue: ClientEvent[] = [];
    let failure: unknown = null;
    let finished = false;
    let wake: (() => void) | null = null;
    const push = (event: ClientEvent) => {
      queue.push(event);
      wake?.();
    };
    listeners.add(push);

    async function handle(event: ServerEvent): Promise<void> {
      switch (event.type) {
        case 'message': {
          const record = await receive(e, event.message);
          const content = record.content;
          if (!content) return; // a failure was reported by the engine
          if (content.type === 'control' && content.control.kind === 'title') {
            push({
              type: 'conversation.title',
              conversationId: event.conversationId,
              title: content.control.title,
            });
          } else if (content.type === 'edit') {
            const target = await local.getMessage(event.conversationId, toHex(content.target));
            if (target && target.senderUserId === record.senderUserId) {
              push({
                type: 'message.edited',
                conversationId: event.conversationId,
                messageId: target.clientMessageId,
                text: content.text,
                editedAt: new Date(record.sentAt),
              });
            }
          } else if (content.type === 'reaction') {
            push({
              type: 'reaction',
              conversationId: event.conversationId,
              messageId: toHex(content.target),
              userId: record.senderUserId,
              emoji: content.emoji,
              removed: content.remove,
            });
          } else if (content.type !== 'control') {
            const view = await viewOf(e, record);
            if (view) push({ type: 'message', message: view });
          }
          return;
        }
        case 'message.deleted':
          await e.withLock(event.conversationId, () =>
            e.forget(event.conversationId, event.clientMessageId),
          );
          push({
            type: 'message.deleted',
            conversationId: event.conversationId,
            messageId: event.clientMessageId,
          });
          return;
        case 'envelope':
          try {
            await e.withLock(event.conversationId, () =>
              e.acceptEnvelope(event.conversationId, event.envelope),
            );
          } catch (error) {
            if (!(error instanceof AuthenticationError)) throw error;
            push({
              type: 'decryption-failure',
              conversationId: event.conversationId,
              messageId: `epoch-${event.epoch}`,
              senderUserId: event.envelope.senderUserId,
            });
          }
          return;
        case 'membership':
        case 'read':
        case 'typing':
        case 'presence':
          push(event);
          return;
        case 'commit':
        case 'meta':
          return;
      }
    }

    const streamId = toHex(randomBytes(12));
    const lastEventId = await local.getLastEventId();
    let processing = Promise.resolve();
    const subscription = transport.api.events.onEvent.subscribe(
      { streamId, ...(lastEventId ? { lastEventId } : {}) },
      {
        onData(tracked) {
          processing = processing
            .then(() => handle(tracked.data))
            .then(() => local.setLastEventId(tracked.id))
            .catch((error: unknown) => {
              failure = error;
              wake?.();
            });
        },
        onError(error) {
          failure = error;
          wake?.();
        },
      },
    );
    const stop = () => {
      finished = true;
      wake?.();
    };
    control.stop = stop;
    closers.add(stop);
    try {
      while (!finished) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      subscription.unsubscribe();
      listeners.delete(push);
      closers.delete(stop);
    }
  }

  return client;
}
