import { z } from 'zod';
import { LIMITS, bytesSchema, idSchema } from '../wire.ts';

/** A link request's handle: the first 16 bytes of a hash of the link secret, as hex. */
const handleSchema = z.string().regex(/^[0-9a-f]{32}$/, 'Must be a 32-character hex handle');

/** Longest device name, in characters (the signed form allows 256 bytes of UTF-8). */
export const DEVICE_NAME_MAX = 64;
/** version | user id | device id | renamed at (u64) | name length (u16): the bytes before the name. */
const SIGNED_NAME_HEADER = 1 + 16 + 16 + 8 + 2;
const SIGNATURE_BYTES = 64;

/**
 * A device's new name, signed by the user's signing key (`signDeviceName` in
 * `@securechat/crypto`). The server cannot check the signature, which clients do; it checks the
 * layout, that the name is one for this device, and the name's length.
 */
export const renameDeviceInput = z
  .object({
    deviceId: idSchema,
    signedName: bytesSchema('Signed name', SIGNED_NAME_HEADER + 256 + SIGNATURE_BYTES),
  })
  .superRefine(({ deviceId, signedName: b }, ctx) => {
    // Zod runs this even when a field failed; a signed name that is not bytes is reported already.
    if (!Buffer.isBuffer(b)) return;
    const issue = (message: string) =>
      ctx.addIssue({ code: 'custom', path: ['signedName'], message });
    const nameLength = b.length >= SIGNED_NAME_HEADER ? b.readUInt16BE(SIGNED_NAME_HEADER - 2) : -1;
    if (b[0] !== 1 || b.length !== SIGNED_NAME_HEADER + nameLength + SIGNATURE_BYTES)
      return issue('Signed name is malformed');
    if (b.subarray(17, 33).toString('hex') !== deviceId)
      return issue('Signed name is for another device');
    const name = b.subarray(SIGNED_NAME_HEADER, SIGNED_NAME_HEADER + nameLength).toString('utf8');
    if (name.trim() === '' || name !== name.trim()) return issue('Give the device a name');
    if ([...name].length > DEVICE_NAME_MAX)
      return issue(`A device name has at most ${DEVICE_NAME_MAX} characters`);
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
