import { z } from 'zod';
import { LIMITS, bytesSchema, idSchema } from '../wire.ts';

const prekeySchema = z.object({
  prekeyId: z.number().int().min(0).max(0xffffffff),
  bundle: bytesSchema('Prekey bundle', LIMITS.prekeyBundleBytes),
});

export const publishDeviceListInput = z.object({
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  signingKey: bytesSchema('Signing key', 32).refine(
    (b) => b.length === 32,
    'Signing key must be 32 bytes',
  ),
  list: bytesSchema('Device list', LIMITS.deviceListBytes),
  devices: z
    .array(z.object({ id: idSchema, cert: bytesSchema('Device certificate', LIMITS.certBytes) }))
    .min(1, 'A device list names at least one device')
    .max(100, 'At most 100 devices'),
  revokedDeviceIds: z.array(idSchema).max(1000).default([]),
  /** An identity reset: accept a new signing key. */
  reset: z.boolean().default(false),
});

export const registerDeviceInput = z.object({
  deviceId: idSchema,
  signedPrekey: prekeySchema,
  oneTimePrekeys: z.array(prekeySchema).max(LIMITS.oneTimePrekeysPerUpload),
});

export const uploadPrekeysInput = z.object({
  signedPrekey: prekeySchema.optional(),
  oneTimePrekeys: z.array(prekeySchema).max(LIMITS.oneTimePrekeysPerUpload),
});

export const userIdsInput = z.object({
  userIds: z.array(idSchema).min(1).max(LIMITS.groupMembers),
});

export const deviceListChainInput = z.object({
  userId: idSchema,
  afterVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

const secretName = z
  .string()
  .regex(/^[a-z0-9._-]{1,64}$/, 'Secret names are 1–64 of a-z 0-9 . _ -');

export const secretNameInput = z.object({ name: secretName });

export const putSecretsInput = z.object({
  secrets: z
    .array(
      z.object({
        name: secretName,
        value: bytesSchema('Secret', LIMITS.secretBytes),
      }),
    )
    .min(1)
    .max(20),
});
