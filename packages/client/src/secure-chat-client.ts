import type { ServerEvent } from '@securechat/api';
import {
  AuthenticationError,
  ctEqual,
  decodeDeviceCert,
  encodePublicPrekey,
  fromBase64Url,
  fromHex,
  publicPrekey,
  randomBytes,
  safetyNumber,
  toBase64Url,
  toHex,
  type Content,
  type FileRef,
} from '@securechat/crypto';
import {
  createCalendarApi,
  type AnswerOrder,
  type CalendarApi,
  type CalendarReminder,
} from './calendar.ts';
import { createTransport, type ApiClient, type CreateClientOptions } from './client.ts';
import { Engine, isResendable, type EngineNotice } from './e2ee/engine.ts';
import { resetIdentity } from './e2ee/identity-reset.ts';
import { LocalState, type MessageRecord, type MissingNotice } from './e2ee/local-state.ts';
import { buildViews, isModifier, type ChatMessage } from './e2ee/views.ts';
import { WeakPassphraseError } from './e2ee/errors.ts';
import { LINK_QR_PREFIX } from './e2ee/link-code.ts';
import { checkPassphraseStrength } from './passphrase-strength.ts';
import { apiErrorCode } from './errors.ts';
import { openFile, uploadFile, type FileInput } from './files.ts';
import { MemoryKeyStore, type KeyStore } from './key-store.ts';
import {
  cachedViews,
  latestCachedView,
  searchCached,
  unsentChanges,
  unsentRecords,
  withUnsentPreviews,
  type UnsentChange,
} from './local-history.ts';

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
  /** An event of a conversation was created, changed, deleted or answered: list it again. */
  | {
      type: 'calendar.changed';
      conversationId: string;
      eventId: string;
      change: 'created' | 'updated' | 'deleted' | 'rsvp';
    }
  /** A reminder is due: show a notification (`title` is null if the event cannot be read). */
  | ({ type: 'calendar.reminder' } & CalendarReminder)
  | EngineNotice;

type User = { id: string; username: string };

/**
 * What this device needs before it can take part end to end: nothing (`ready`), a first setup
 * (`needs-setup`: the account has no encryption identity yet), the recovery key
 * (`needs-recovery`: the account has one, this device does not), or the recovery key again
 * (`revoked`: this device's keys were revoked, e.g. by an identity reset elsewhere).
 */
export type DeviceStatus = 'ready' | 'needs-setup' | 'needs-recovery' | 'revoked';

export type { MissingNotice };

/** One of the user's devices, as the device list shows it. */
export interface DeviceInfo {
  id: string;
  /** The name given when renaming, else the name in its signed certificate. */
  name: string;
  /** When it was added. */
  createdAt: Date;
  /** Its last authenticated activity (recorded at most once a minute). */
  lastSeenAt: Date;
  /** Whether it is this device. */
  current: boolean;
}

/** Longest device name, in characters. */
export const DEVICE_NAME_MAX = 64;

/** A device name refused before anything is signed or sent; `fieldErrors` names the field. */
export class DeviceNameError extends TypeError {
  readonly fieldErrors: Record<string, string[]>;
  constructor(message: string) {
    super(message);
    this.name = 'DeviceNameError';
    this.fieldErrors = { name: [message] };
  }
}

/**
 * The newest verified name of a device this client has seen, kept in the key store so that a
 * server showing an older signed name (the user's own earlier choice) does not bring it back.
 */
interface SeenDeviceName {
  name: string;
  renamedAtMs: number;
}
const seenNameKey = (userId: string, deviceId: string) => `${userId}/device-name/${deviceId}`;

/** A new device waiting to be linked from an existing one (§3.3 flow A). */
export interface PendingLink {
  /** What the person types on the existing device: 28 characters in groups of four. */
  code: string;
  /** What the QR code shows (the code with a prefix); `inspectLink` accepts either. */
  qrText: string;
  expiresAt: Date;
  /**
   * Resolves once an existing device approved and this device is set up (status `ready`, the
   * handed-over history readable). Rejects with `LinkError` when the request expires or the
   * reply fails verification, or with an `AbortError` when `signal` fires.
   */
  wait(options?: { signal?: AbortSignal; pollMs?: number }): Promise<void>;
  /** Withdraws the request. */
  cancel(): Promise<void>;
}

/** What an existing device is about to link, for the user to confirm. */
export interface LinkPreview {
  /** The name the new device gave itself. */
  deviceName: string;
  deviceId: string;
  expiresAt: Date;
  /** Adds the device to the signed device list and hands it the keys and history. */
  approve(): Promise<void>;
}

/** Options of {@link SecureChatClient.files}.send. */
export interface SendFileOptions {
  name: string;
  mime: string;
  /** Plaintext length; required when `input` is a stream. */
  size?: number;
  /** Text shown with the file. */
  caption?: string;
  /** A small preview image, encrypted and uploaded as a file of its own. */
  thumbnail?: { data: Uint8Array | Blob; mime: string } | null;
  /** Upload progress of the file's ciphertext. */
  onProgress?(sentBytes: number, totalBytes: number): void;
  signal?: AbortSignal;
  /** The message's client id, when it must be known in advance (see {@link newMessageId}). */
  id?: string;
}

/** A file as `files.list` gives it: what the server knows. */
export type FileListing = Awaited<ReturnType<ApiClient['files']['list']['query']>>[number];

/** A new client message id (16 random bytes, hex), for sending with an id known in advance. */
export function newMessageId(): string {
  return toHex(randomBytes(16));
}

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
    /**
     * A further device: restores the identity from the recovery key, adds this device, and
     * restores the key backup so earlier history decrypts (`restoredEpochs` epochs).
     */
    recover(recoveryKey: string): Promise<{ restoredEpochs: number }>;
    /**
     * Where this device stands (see {@link DeviceStatus}). When it is set up, this also binds the
     * current session to it, which a new sign-in on an already set-up browser needs.
     */
    status(): Promise<DeviceStatus>;
    /**
     * The last resort when the recovery key is lost: a new encryption identity and recovery key,
     * with this device as its only device. Every other device is revoked and must be set up
     * again; history not already decrypted on this device becomes unreadable; contacts see a new
     * safety number. Then starts a new epoch in each conversation so members can read this
     * device's messages (and it theirs) again.
     */
    resetIdentity(): Promise<{ recoveryKey: string }>;
    /** Flow B with the passphrase instead of the recovery key; restores history like `recover`. */
    recoverWithPassphrase(passphrase: string): Promise<{ restoredEpochs: number }>;
    /**
     * Whether this device backs up the conversation keys it makes (it holds the account's current
     * backup public key). False for a device set up before key backup existed.
     */
    isBackingUp(): Promise<boolean>;
    /** Whether the account has a recovery passphrase. */
    hasPassphrase(): Promise<boolean>;
    /**
     * Sets or replaces the recovery passphrase (it wraps the secret-storage key with Argon2id).
     * Refused with `WeakPassphraseError` unless {@link checkPassphraseStrength} accepts it. A
     * device that was linked never had the secret-storage key: pass the recovery key.
     */
    setPassphrase(passphrase: string, options?: { recoveryKey?: string }): Promise<void>;
    /** Removes the recovery passphrase (the recovery key still works). */
    removePassphrase(): Promise<void>;
    /**
     * This user's active devices, oldest first. A renamed device shows its new name only if the
     * name verifies under this user's signing key; otherwise the name in its certificate.
     */
    list(): Promise<DeviceInfo[]>;
    /**
     * Renames one of this user's devices: the name is signed with the user signing key, so the
     * server stores it but cannot change it. Throws `DeviceNameError` for an empty or too long one.
     */
    rename(deviceId: string, name: string): Promise<void>;
    /**
     * Revokes another device: publishes a signed device list without it (the server signs it out
     * at once), then starts a new epoch in every conversation, so it can decrypt nothing sent
     * afterwards. Conversations that fail to rotate here still rotate before anyone's next
     * message (the server refuses messages until they do).
     */
    revoke(deviceId: string): Promise<{ rotated: number; failed: number }>;
    /**
     * On a new device (signed in, status `needs-recovery`): asks to be linked from another one.
     * The request is kept in the key store until it ends, so after a restart (a reload, say) this
     * resumes it, with the same code, while the server still holds it.
     */
    startLink(): Promise<PendingLink>;
    /** On a set-up device: what a link code asks to add; throws `LinkCodeError`. */
    inspectLink(code: string): Promise<LinkPreview>;
  };
  conversations: {
    openDirect(username: string): Promise<{ id: string }>;
    openNotes(): Promise<{ id: string }>;
    createGroup(input: { title: string; members: string[] }): Promise<{ id: string }>;
    addMember(conversationId: string, username: string): Promise<void>;
    removeMember(conversationId: string, username: string): Promise<void>;
    leave(conversationId: string): Promise<void>;
    /**
     * The conversations, most recently active first. `preview: 'decrypt'` (the default) decrypts
     * each last message; `'cached'` previews only what this device already decrypted, so it never
     * decrypts ahead of the event stream (which would report the messages in between as missing).
     * The result is also kept locally for {@link SecureChatClient.localHistory}.
     */
    list(options?: { preview?: 'decrypt' | 'cached' }): Promise<ConversationSummary[]>;
    /**
     * Starts a new epoch in every conversation, sealed to every current device of every member.
     * A device added by `devices.recover` calls this: until someone rotates, the others keep
     * sending in epochs whose keys never reached it. Conversations that fail are counted, not
     * thrown (they rotate with this device's next message there).
     */
    rotateAll(): Promise<{ rotated: number; failed: number }>;
  };
  messages: {
    /**
     * Encrypts and sends a text message. `id` (from {@link newMessageId}) lets a caller show the
     * message before it is sent, and retry a failed send under the same id without a duplicate.
     * A retry of a message this device stored but never got acknowledged (also after a restart)
     * sends it as stored; the id of a message already sent just returns.
     */
    send(
      conversationId: string,
      input: { text: string; replyTo?: string; id?: string },
    ): Promise<{ id: string }>;
    /**
     * Sends again a text or file message, an edit or a reaction of this device that the server
     * never acknowledged (see {@link SecureChatClient.localHistory.unsent} and
     * {@link SecureChatClient.localHistory.unsentChanges}), as stored. Does nothing for one
     * already sent.
     */
    resend(conversationId: string, messageId: string): Promise<void>;
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
    /**
     * Like {@link list}, plus whether the server holds older messages (`hasMore`), which `list`
     * cannot tell: a page of edits and reactions yields fewer messages than its limit.
     */
    page(
      conversationId: string,
      options?: { before?: string; limit?: number },
    ): Promise<{ messages: ChatMessage[]; hasMore: boolean }>;
    markRead(conversationId: string, messageId: string): Promise<void>;
    typing(conversationId: string): Promise<void>;
  };
  contacts: {
    /** The 60-digit safety number with a user, identical on both sides (§3.10). */
    safetyNumber(userId: string): Promise<string>;
    markVerified(userId: string, verified?: boolean): Promise<void>;
    /** Accepts a contact's new identity after comparing the new safety number. */
    acceptIdentityChange(userId: string): Promise<void>;
    /**
     * Whether this device marked the user verified, and whether their published identity differs
     * from the one pinned here (a change not accepted yet; for a verified contact, sending to
     * them is blocked until {@link acceptIdentityChange}).
     */
    status(userId: string): Promise<{ verified: boolean; identityChanged: boolean }>;
    /** The safety number with the user's newly published identity, or null if it did not change. */
    changedSafetyNumber(userId: string): Promise<string | null>;
  };
  /**
   * This device's history: what it has decrypted, kept in the key store (sealed at rest by
   * `EncryptingKeyStore` in browsers). Reads here never touch the network.
   */
  localHistory: {
    /** The conversation list as last fetched, or null before the first fetch. */
    conversations(): Promise<ConversationSummary[] | null>;
    /** Every message of a conversation held here, newest first (as `messages.list` gives them). */
    messages(conversationId: string): Promise<ChatMessage[]>;
    /** "Messages missing" notices of a conversation, oldest first. */
    missing(conversationId: string): Promise<MissingNotice[]>;
    /** Messages held here whose text has words starting with every word of `query`; newest first. */
    search(
      query: string,
      options?: { conversationId?: string; limit?: number },
    ): Promise<ChatMessage[]>;
    /**
     * Forgets the decrypted messages of one conversation (or of all). They are not fetched
     * again: each message key works once, so they could only come back as undecryptable.
     */
    clear(conversationId?: string): Promise<void>;
    /**
     * The text and file messages of this device that the server never acknowledged (their send
     * failed, or the app stopped first), in every conversation, oldest first: to send again with
     * `messages.resend`, or drop with `discardUnsent`.
     */
    unsent(): Promise<ChatMessage[]>;
    /**
     * The edits and reactions of this device that the server never acknowledged, in every
     * conversation, oldest first: to send again with `messages.resend`, or drop with
     * `discardUnsent`. Until they are sent, views show the messages without them.
     */
    unsentChanges(): Promise<UnsentChange[]>;
    /** Drops a message, edit or reaction of this device that was never sent (it has no seq). */
    discardUnsent(conversationId: string, messageId: string): Promise<void>;
    /** The highest seq cleared from this device's history of a conversation (0: never cleared). */
    clearedUpTo(conversationId: string): Promise<number>;
  };
  /** Decrypted events for this device; reconnects and resumes by itself. */
  events(): AsyncIterableIterator<ClientEvent>;
  /**
   * End-to-end encrypted files (§3.8). The key, ciphertext hash, size, name and type travel only
   * inside the encrypted message; the server stores ciphertext it cannot read.
   */
  files: {
    /**
     * Encrypts `input` while uploading it, then sends a file message carrying its {@link FileRef}
     * (and the thumbnail's, uploaded as a separate encrypted file). Rejects with a
     * `FileTransferError` or an API error (`PAYLOAD_TOO_LARGE` over the size limit or quota),
     * or an `AbortError` when `signal` fires.
     */
    send(
      conversationId: string,
      input: FileInput,
      options: SendFileOptions,
    ): Promise<{ id: string; file: FileRef; thumbnail: FileRef | null }>;
    /**
     * The verified plaintext of a file message's file (or of a {@link FileRef}, e.g. a
     * message's `thumbnail`), as a stream; it errors if anything was tampered with.
     */
    open(
      message: ChatMessage | FileRef,
      options?: {
        signal?: AbortSignal;
        onProgress?(receivedBytes: number, totalBytes: number): void;
      },
    ): ReadableStream<Uint8Array>;
    /** The files stored in a conversation (ciphertext sizes; names are only in the messages). */
    list(conversationId: string): Promise<FileListing[]>;
    /** Deletes a file this user uploaded (or, as admin, any in the conversation). */
    delete(fileId: string): Promise<void>;
  };
  /**
   * End-to-end encrypted calendar events (§3.11): each revision is an encrypted message in its
   * conversation; the server reads only times, rule, attendees and reminders, which the client
   * checks against the organizer's signed copy before showing an event.
   */
  calendar: CalendarApi;
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
    if (event.type === 'messages-missing' && me) {
      // Kept so the conversation can show the marker after a reload too.
      void new LocalState(keyStore, me.id)
        .addMissingNotice({
          conversationId: event.conversationId,
          senderUserId: event.senderUserId,
          count: event.count,
          detectedAt: Date.now(),
        })
        .catch(() => {});
    }
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
  /** The signing key a user has published now (whether or not this device accepted it). */
  async function publishedKey(userId: string): Promise<Uint8Array | null> {
    const [row] = await transport.api.keys.deviceLists.query({ userIds: [userId] });
    return row ? fromBase64Url(row.signingKey) : null;
  }
  async function userIdOf(name: string): Promise<string> {
    const user = await transport.api.users.byUsername.query({ username: name });
    usernames.set(user.id, user.username);
    return user.id;
  }
  async function sendContent(
    conversationId: string,
    content: Content,
    clientMessageId?: string,
    options?: { silent?: boolean },
  ): Promise<MessageRecord> {
    const e = await getEngine();
    return e.withLock(conversationId, () =>
      e.send(conversationId, content, clientMessageId, options),
    );
  }
  /** Usernames from the cached conversation list, for reading history before any fetch. */
  async function learnCachedNames(local: LocalState): Promise<void> {
    const cached = await local.getConversationCache<ConversationSummary[]>();
    for (const c of cached ?? []) {
      for (const m of c.members) if (!usernames.has(m.id)) usernames.set(m.id, m.username);
    }
  }
  /**
   * Binds this session to this device: a sign-in after signing out starts a session that the
   * server has not tied to any device. Re-registering with the current signed prekey and no new
   * one-time prekeys changes nothing else. False when the server refuses the device (revoked).
   */
  async function bindSession(e: Engine, local: LocalState): Promise<boolean> {
    try {
      await transport.api.keys.prekeyCount.query();
      return true;
    } catch (error) {
      if (apiErrorCode(error) !== 'PRECONDITION_FAILED') throw error;
    }
    const device = await e.device();
    const spk = (await local.prekeys('spk')).sort((a, b) => b.prekeyId - a.prekeyId)[0];
    if (!spk) return false;
    try {
      await transport.api.keys.registerDevice.mutate({
        deviceId: toHex(device.deviceId),
        signedPrekey: {
          prekeyId: spk.prekeyId,
          bundle: toBase64Url(encodePublicPrekey(publicPrekey(spk))),
        },
        oneTimePrekeys: [],
      });
      return true;
    } catch (error) {
      const code = apiErrorCode(error);
      if (code === 'FORBIDDEN' || code === 'NOT_FOUND') return false;
      throw error;
    }
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

  async function rotateAll(e: Engine): Promise<{ rotated: number; failed: number }> {
    let rotated = 0;
    let failed = 0;
    for (const row of await transport.api.conversations.list.query()) {
      try {
        await e.withLock(row.id, () => e.commit(row.id));
        rotated += 1;
      } catch {
        failed += 1;
      }
    }
    return { rotated, failed };
  }

  /** A page of history from the server, decrypted (once), newest first. */
  async function fetchPage(
    conversationId: string,
    listOptions: { before?: string; limit?: number },
  ): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
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
    // Cleared from this device's history: not fetched back (see localHistory.clear).
    const cleared = await local.getClearedSeq(conversationId);
    // Oldest first, so each sender's chain advances in order.
    for (const dto of [...page.messages].reverse()) {
      if (dto.seq > cleared) records.push(await receive(e, dto));
    }
    await ensureUsernames(conversationId, records);
    const messages = buildViews(records, await modifiersOf(e, conversationId), username).reverse();
    // Nothing older is fetched once the page reaches history cleared from this device.
    return { messages, hasMore: page.nextBefore !== null && page.nextBefore > cleared + 1 };
  }

  const calendar = createCalendarApi({
    api: () => transport.api,
    me: async () => {
      const e = await getEngine();
      await e.device();
      return e.me;
    },
    receive: async (dto) => receive(await getEngine(), dto),
    send: (conversationId, content, options) =>
      sendContent(conversationId, content, undefined, options),
    unsend: async (conversationId, messageId) => {
      await transport.api.messages.delete.mutate({ conversationId, clientMessageId: messageId });
      const e = await getEngine();
      await e.withLock(conversationId, () => e.forget(conversationId, messageId));
    },
    notesId: async () => (await transport.api.conversations.openNotes.mutate()).id,
    revisions: {
      get: async (eventId) =>
        keyStore.get<number>(`${(await getEngine()).me.id}/calendar-revision/${eventId}`),
      set: async (eventId, revision) =>
        keyStore.set(`${(await getEngine()).me.id}/calendar-revision/${eventId}`, revision),
    },
    answerOrder: {
      get: async (key) =>
        keyStore.get<AnswerOrder>(`${(await getEngine()).me.id}/calendar-answer-order/${key}`),
      set: async (key, order) =>
        keyStore.set(`${(await getEngine()).me.id}/calendar-answer-order/${key}`, order),
    },
  });

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
        return (await getEngine()).recover(recoveryKey, deviceName);
      },
      async recoverWithPassphrase(passphrase) {
        return (await getEngine()).recoverWithPassphrase(passphrase, deviceName);
      },
      async isBackingUp() {
        return (await getEngine()).isBackingUp();
      },
      async hasPassphrase() {
        return (await getEngine()).hasPassphrase();
      },
      async setPassphrase(passphrase, passphraseOptions = {}) {
        const e = await getEngine();
        const strength = await checkPassphraseStrength(passphrase, [e.me.username]);
        if (!strength.ok) throw new WeakPassphraseError(strength);
        await e.setPassphrase(passphrase, passphraseOptions.recoveryKey);
      },
      async removePassphrase() {
        await (await getEngine()).removePassphrase();
      },
      async list() {
        const e = await getEngine();
        const rows = await transport.api.devices.list.query();
        // A new name counts only as the user signed it, for this device; and a name older than
        // one this device has seen (a server showing the past) gives way to that one.
        const renamed = await e.verifiedDeviceNames(
          rows.flatMap((row) =>
            row.signedName ? [{ deviceId: row.id, signed: fromBase64Url(row.signedName) }] : [],
          ),
        );
        for (const row of rows) {
          const seen = await keyStore.get<SeenDeviceName>(seenNameKey(e.me.id, row.id));
          const shown = renamed.get(row.id);
          if (seen && (!shown || shown.renamedAtMs < seen.renamedAtMs)) renamed.set(row.id, seen);
          else if (shown && (!seen || shown.renamedAtMs > seen.renamedAtMs))
            await keyStore.set(seenNameKey(e.me.id, row.id), shown);
        }
        return rows.map((row) => {
          let certName = 'Unnamed device';
          try {
            certName = decodeDeviceCert(fromBase64Url(row.cert)).displayName || certName;
          } catch {
            // An unreadable certificate still lists (and can be revoked).
          }
          return {
            id: row.id,
            name: renamed.get(row.id)?.name ?? certName,
            createdAt: row.createdAt,
            lastSeenAt: row.lastSeenAt,
            current: row.current,
          };
        });
      },
      async rename(deviceId, name) {
        const trimmed = name.trim();
        if (!trimmed) throw new DeviceNameError('Give the device a name');
        if ([...trimmed].length > DEVICE_NAME_MAX)
          throw new DeviceNameError(`A device name has at most ${DEVICE_NAME_MAX} characters`);
        const e = await getEngine();
        // Later than any name of this device seen here, even if another device's clock is ahead.
        const seen = await keyStore.get<SeenDeviceName>(seenNameKey(e.me.id, deviceId));
        const renamedAtMs = Math.max(Date.now(), (seen?.renamedAtMs ?? 0) + 1);
        const signedName = await e.signDeviceName(deviceId, trimmed, renamedAtMs);
        await transport.api.devices.rename.mutate({
          deviceId,
          signedName: toBase64Url(signedName),
        });
        await keyStore.set(seenNameKey(e.me.id, deviceId), { name: trimmed, renamedAtMs });
      },
      async revoke(deviceId) {
        const e = await getEngine();
        await e.revoke(deviceId);
        return rotateAll(e);
      },
      async startLink() {
        const e = await getEngine();
        const pending = await e.startLink(deviceName);
        let done = false;
        return {
          code: pending.code,
          qrText: `${LINK_QR_PREFIX}${pending.code}`,
          expiresAt: pending.expiresAt,
          async wait(waitOptions = {}) {
            const pollMs = waitOptions.pollMs ?? 1000;
            while (!done) {
              waitOptions.signal?.throwIfAborted();
              if (await e.finishLink(pending)) {
                done = true;
                return;
              }
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, pollMs);
                waitOptions.signal?.addEventListener(
                  'abort',
                  () => {
                    clearTimeout(timer);
                    resolve();
                  },
                  { once: true },
                );
              });
            }
          },
          cancel: () => e.cancelLink(pending),
        };
      },
      async inspectLink(code) {
        const e = await getEngine();
        const link = await e.inspectLink(code);
        return {
          deviceName: link.name,
          deviceId: toHex(link.request.deviceId),
          expiresAt: link.expiresAt,
          approve: () => e.approveLink(link),
        };
      },
      async status() {
        const e = await getEngine();
        if (await e.hasDevice()) {
          return (await bindSession(e, new LocalState(keyStore, e.me.id))) ? 'ready' : 'revoked';
        }
        const [published] = await transport.api.keys.deviceLists.query({ userIds: [e.me.id] });
        return published ? 'needs-recovery' : 'needs-setup';
      },
      async resetIdentity() {
        const old = await getEngine();
        const local = new LocalState(keyStore, old.me.id);
        const result = await resetIdentity(
          transport.api,
          local,
          old.identities,
          old.me,
          deviceName,
        );
        // A fresh engine: the old one holds the revoked device and its epoch states in memory.
        engine = null;
        // The design says a member's new identity must rotate every conversation (§3.7); this
        // device does it, so members read what it sends and it reads what they send next.
        await rotateAll(await getEngine());
        return result;
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
      async rotateAll() {
        return rotateAll(await getEngine());
      },
      async list(listOptions = {}) {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        const rows = await transport.api.conversations.list.query();
        const out: ConversationSummary[] = [];
        for (const row of rows) {
          learn(row.members);
          let lastMessage: ChatMessage | null = null;
          if (row.lastMessage && listOptions.preview === 'cached') {
            lastMessage = await latestCachedView(local, row.id, username);
          } else if (
            row.lastMessage &&
            // Cleared from this device's history: not decrypted again (see localHistory.clear).
            row.lastMessage.seq > (await local.getClearedSeq(row.id)) &&
            (await e.hasDevice())
          ) {
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
        // Saved as the server gave it: what is unsent is added whenever the list is read.
        await local.setConversationCache(out);
        return withUnsentPreviews(local, out, username);
      },
    },
    messages: {
      async send(conversationId, { text, replyTo, id }) {
        const record = await sendContent(
          conversationId,
          { type: 'text', text, replyTo: replyTo ? fromHex(replyTo, 16) : null },
          id,
        );
        return { id: record.clientMessageId };
      },
      async resend(conversationId, messageId) {
        const e = await getEngine();
        await e.withLock(conversationId, async () => {
          const record = await new LocalState(keyStore, e.me.id).getMessage(
            conversationId,
            messageId,
          );
          if (!record || record.senderUserId !== e.me.id || !isResendable(record))
            throw new TypeError('No message, edit or reaction of this device has that id');
          if (record.seq === null) await e.send(conversationId, record.content!, messageId);
        });
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
        return (await fetchPage(conversationId, listOptions)).messages;
      },
      page: (conversationId, pageOptions = {}) => fetchPage(conversationId, pageOptions),
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
      async status(userId) {
        const e = await getEngine();
        const [record, published] = await Promise.all([
          e.identities.get(userId),
          publishedKey(userId),
        ]);
        return {
          verified: record?.verified ?? false,
          identityChanged:
            record !== undefined &&
            published !== null &&
            !ctEqual(record.pin.uskPublicKey, published),
        };
      },
      async changedSafetyNumber(userId) {
        const e = await getEngine();
        const [record, published] = await Promise.all([
          e.identities.get(userId),
          publishedKey(userId),
        ]);
        if (!record || !published || ctEqual(record.pin.uskPublicKey, published)) return null;
        const mine = await e.uskOf(e.me.id);
        return safetyNumber(mine, fromHex(e.me.id, 16), published, fromHex(userId, 16));
      },
    },
    localHistory: {
      async conversations() {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        const cached = await local.getConversationCache<ConversationSummary[]>();
        if (!cached) return null;
        await learnCachedNames(local);
        return withUnsentPreviews(local, cached, username);
      },
      async messages(conversationId) {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        await learnCachedNames(local);
        return cachedViews(local, conversationId, username);
      },
      async missing(conversationId) {
        const e = await getEngine();
        return new LocalState(keyStore, e.me.id).missingNotices(conversationId);
      },
      async search(query, searchOptions = {}) {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        await learnCachedNames(local);
        return searchCached(local, query, username, searchOptions);
      },
      async clear(conversationId) {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        const cached = (await local.getConversationCache<ConversationSummary[]>()) ?? [];
        const ids = conversationId
          ? [conversationId]
          : [
              ...new Set([
                ...(await local.conversationsWithMessages()),
                ...cached.map((c) => c.id),
              ]),
            ];
        for (const id of ids) {
          await e.withLock(id, async () => {
            // The high-water mark is written first: were the deletes cut short, nothing below it
            // would be decrypted again anyway.
            let highest = await local.getClearedSeq(id);
            for (const record of await local.messagesOf(id)) {
              highest = Math.max(highest, record.seq ?? 0);
            }
            const summary = cached.find((c) => c.id === id);
            highest = Math.max(highest, summary?.lastMessage?.seq ?? 0);
            await local.setClearedSeq(id, highest);
            await local.deleteMessages(id);
          });
        }
        // Previews are history too.
        await local.setConversationCache(
          cached.map((c) => (ids.includes(c.id) ? { ...c, lastMessage: null } : c)),
        );
      },
      async clearedUpTo(conversationId) {
        const e = await getEngine();
        return new LocalState(keyStore, e.me.id).getClearedSeq(conversationId);
      },
      async unsent() {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        await learnCachedNames(local);
        return buildViews(await unsentRecords(local), [], username);
      },
      async unsentChanges() {
        const e = await getEngine();
        return unsentChanges(await unsentRecords(new LocalState(keyStore, e.me.id)));
      },
      async discardUnsent(conversationId, messageId) {
        const e = await getEngine();
        const local = new LocalState(keyStore, e.me.id);
        await e.withLock(conversationId, async () => {
          const record = await local.getMessage(conversationId, messageId);
          if (record && record.seq === null && record.senderUserId === e.me.id) {
            await local.deleteMessage(conversationId, messageId);
            await local.deleteUnsent(conversationId, messageId);
          }
        });
      },
    },
    files: {
      async send(conversationId, input, sendOptions) {
        const { signal } = sendOptions;
        const file = await uploadFile(transport, conversationId, input, {
          name: sendOptions.name,
          mime: sendOptions.mime,
          ...(sendOptions.size !== undefined ? { size: sendOptions.size } : {}),
          ...(sendOptions.onProgress ? { onProgress: sendOptions.onProgress } : {}),
          ...(signal ? { signal } : {}),
        });
        let thumbnail: FileRef | null = null;
        try {
          if (sendOptions.thumbnail) {
            signal?.throwIfAborted();
            thumbnail = await uploadFile(transport, conversationId, sendOptions.thumbnail.data, {
              name: `thumbnail-${sendOptions.name}`,
              mime: sendOptions.thumbnail.mime,
              ...(signal ? { signal } : {}),
            });
          }
          signal?.throwIfAborted();
        } catch (error) {
          // Not sent: the uploaded file would only use up the quota until the server expires it.
          await transport.api.files.delete.mutate({ fileId: toHex(file.fileId) }).catch(() => {});
          throw error;
        }
        const e = await getEngine();
        const record = await e.withLock(conversationId, () =>
          e.send(
            conversationId,
            { type: 'file', file, thumbnail, caption: sendOptions.caption ?? '' },
            sendOptions.id,
          ),
        );
        return { id: record.clientMessageId, file, thumbnail };
      },
      open(message, openOptions = {}) {
        const ref = 'fileId' in message ? message : message.file;
        if (!ref) throw new TypeError('This message carries no file');
        return openFile(transport, ref, openOptions);
      },
      async list(conversationId) {
        return transport.api.files.list.query({ conversationId });
      },
      async delete(fileId) {
        await transport.api.files.delete.mutate({ fileId });
      },
    },
    calendar,
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
          if (event.message.seq <= (await local.getClearedSeq(event.conversationId))) return;
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
        case 'calendar':
          push({
            type: 'calendar.changed',
            conversationId: event.conversationId,
            eventId: event.eventId,
            change: event.change,
          });
          return;
        case 'calendar.reminder': {
          const { type: _type, ...reminder } = event;
          push({ type: 'calendar.reminder', ...(await calendar.reminderNotification(reminder)) });
          return;
        }
        case 'commit':
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
