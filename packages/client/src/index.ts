export {
  createClient,
  DEVICE_NAME_MAX,
  DeviceNameError,
  newMessageId,
  type SecureChatClient,
  type SecureChatClientOptions,
  type ConversationSummary,
  type ClientEvent,
  type DeviceStatus,
  type MissingNotice,
  type SendFileOptions,
  type FileListing,
  type DeviceInfo,
  type PendingLink,
  type LinkPreview,
} from './secure-chat-client.ts';
export {
  checkPassphraseStrength,
  MIN_PASSPHRASE_BITS,
  type PassphraseStrength,
} from './passphrase-strength.ts';
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
  PassphraseError,
  WeakPassphraseError,
  LinkCodeError,
  LinkError,
} from './e2ee/errors.ts';
export { IndexedDbKeyStore } from './key-store-idb.ts';
export {
  EncryptingKeyStore,
  LOCAL_STORE_KEY_NAME,
  SEALED_SEGMENTS,
  sealsByDefault,
  type EncryptingKeyStoreOptions,
} from './key-store-encrypting.ts';
export { foldForSearch, searchWords, matchesQuery } from './local-history.ts';
export type { UnsentChange } from './local-history.ts';
export {
  uploadFile,
  openFile,
  FileTransferError,
  type FileTransport,
  type FileInput,
  type UploadOptions,
} from './files.ts';
export type { FileRef } from '@securechat/crypto';
export {
  CalendarForbiddenError,
  CalendarInputError,
  CalendarVerificationError,
  calendarCardOf,
  shiftCalendarTime,
  type CalendarApi,
  type CalendarAttendee,
  type CalendarCard,
  type CalendarConflict,
  type CalendarEvent,
  type CalendarEventChanges,
  type CalendarEventInput,
  type CalendarOccurrence,
  type CalendarOccurrenceAnswer,
  type CalendarOverride,
  type CalendarRejection,
  type CalendarReminder,
  type CalendarScope,
  type RsvpStatus,
} from './calendar.ts';
