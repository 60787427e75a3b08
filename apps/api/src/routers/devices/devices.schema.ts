import { z } from 'zod';
import { LIMITS, bytesSchema, idSchema } from '../wire.ts';

/** A link request's handle: the first 16 bytes of a hash of the link secret, as hex. */
const handleSchema = z.string().regex(/^[0-9a-f]{32}$/, 'Must be a 32-character hex handle');

export const renameDeviceInput = z.object({
  deviceId: idSchema,
  name: z
    .string()
    .trim()
    .min(1, 'Give the device a name')
    .max(64, 'A device name has at most 64 characters'),
});

export const createLinkInput = z.object({
  handle: handleSchema,
  /** The new device's keys and name, sealed under the link secret (opaque here). */
  request: bytesSchema('Link request', LIMITS.linkRequestBytes).refine(
    (b) => b.length > 0,
    'Link request must not be empty',
  ),
});

export const linkHandleInput = z.object({ handle: handleSchema });

export const approveLinkInput = z.object({
  handle: handleSchema,
  envelope: bytesSchema('Provisioning envelope', LIMITS.provisioningEnvelopeBytes).refine(
    (b) => b.length > 0,
    'Provisioning envelope must not be empty',
  ),
});

export const setBackupKeyInput = z.object({
  publicKey: bytesSchema('Backup public key', 32).refine(
    (b) => b.length === 32,
    'Backup public key must be 32 bytes',
  ),
});

export const putBackupEntriesInput = z.object({
  entries: z
    .array(
      z.object({
        conversationId: idSchema,
        epoch: z.number().int().min(0).max(0xffffffff),
        entry: bytesSchema('Backup entry', LIMITS.backupEntryBytes),
      }),
    )
    .min(1)
    .max(LIMITS.backupEntriesPerUpload),
});

export const backupEntriesInput = z.object({
  /** Cursor: the last entry id of the previous page (0 for the first page). */
  after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});
