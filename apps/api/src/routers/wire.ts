import { z } from 'zod';

/** Ids are 16 random bytes as 32 lowercase hex characters. */
export const idSchema = z.string().regex(/^[0-9a-f]{32}$/, 'Must be a 32-character hex id');

/** Binary values travel as base64url (superjson has no typed arrays); `max` bounds the bytes. */
export function bytesSchema(label: string, maxBytes: number) {
  const maxChars = Math.ceil((maxBytes * 4) / 3);
  return z
    .string()
    .max(maxChars, `${label} must be at most ${maxBytes} bytes`)
    .regex(/^[A-Za-z0-9_-]*$/, `${label} must be base64url`)
    .transform((value) => Buffer.from(value, 'base64url'));
}

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Limits on what clients may store. */
export const LIMITS = {
  messageBytes: 64 * 1024,
  deviceListBytes: 64 * 1024,
  certBytes: 2 * 1024,
  prekeyBundleBytes: 1024,
  oneTimePrekeysPerUpload: 200,
  envelopeBytes: 8 * 1024,
  envelopesPerCommit: 2000,
  rosterBytes: 512 * 1024,
  secretBytes: 16 * 1024,
  historyPage: 100,
  groupMembers: 1000,
  linkRequestBytes: 1024,
  /** A provisioning envelope carries up to 4096 epoch secrets of 84 bytes each. */
  provisioningEnvelopeBytes: 512 * 1024,
  backupEntryBytes: 256,
  backupEntriesPerUpload: 500,
  backupEntriesPage: 500,
} as const;
