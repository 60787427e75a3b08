/**
 * Linking a new device from an existing one (§3.3 flow A).
 *
 * 1. The new device creates its keys, a one-off X25519 key and a 128-bit link secret `LS`, and
 *    shows {@link encodeLinkRequest} as a QR code.
 * 2. The existing device scans it, adds the new device's certificate to the device list, and
 *    seals a provisioning envelope ({@link sealProvisioning}): an envelope of kind `provision` to
 *    the one-off key, with `LS` bound into the HPKE info, signed by the existing device's DSK.
 * 3. The new device opens it ({@link openProvisioning}), learns its USK from the bundle, and
 *    checks the signature against its own (USK-verified) device list.
 *
 * The server only relays ciphertext. It never sees `LS` (it travels by camera), so it cannot
 * produce an envelope the new device would open, nor read one.
 *
 * Layouts: LinkRequest = v u8 (=1) | user_id[16] | device_id[16] | dsk_pub[32] | link_pub[32] |
 * link_secret[16] (113 bytes). ProvisioningBundle = v u8 (=1) | usk_pkcs8: u32 length + bytes |
 * has_backup u8 | [backup_pkcs8: u32 length + bytes] | u32 n | n × (conv_id[16] | epoch u32 |
 * epoch_secret[32] | roster_hash[32]).
 *
 * @module
 */
import { Reader, Writer, checkList, type Bytes } from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { openEnvelope, sealEnvelope } from './envelope.ts';
import { checkDeviceKeys, ID_LENGTH, PROTOCOL_VERSION, type DeviceKeys } from './identity.ts';
import {
  ctEqual,
  generateX25519KeyPair,
  importEd25519PrivateKey,
  randomBytes,
  type KeyPair,
} from './primitives.ts';

/** What the new device shows as a QR code. */
export interface LinkRequest {
  userId: Bytes;
  deviceId: Bytes;
  /** The new device's DSK public key. */
  dskPublicKey: Bytes;
  /** The one-off X25519 public key the provisioning envelope is sealed to. */
  linkPublicKey: Bytes;
  /** 16 random bytes bound into the envelope, proving the sender saw the QR code. */
  linkSecret: Bytes;
}

/** The secrets an existing device hands to a new one. */
export interface ProvisioningBundle {
  /** USK private key (PKCS#8). */
  uskPkcs8: Bytes;
  /** Key-backup private key (PKCS#8), if backup is enabled. */
  backupKeyPkcs8: Bytes | null;
  /** Recent epoch secrets (history hand-off); never include ephemeral epochs. */
  epochs: { convId: Bytes; epoch: number; epochSecret: Bytes; rosterHash: Bytes }[];
}

/** Most epochs one bundle may carry. */
export const MAX_PROVISIONED_EPOCHS = 4096;

/** Encode a link request for the QR code (113 bytes; show as base64url). */
export function encodeLinkRequest(r: LinkRequest): Bytes {
  if (!r || typeof r !== 'object') throw new InvalidInputError('link request must be an object');
  return new Writer()
    .u8(PROTOCOL_VERSION)
    .fixed(r.userId, ID_LENGTH, 'userId')
    .fixed(r.deviceId, ID_LENGTH, 'deviceId')
    .fixed(r.dskPublicKey, 32, 'dskPublicKey')
    .fixed(r.linkPublicKey, 32, 'linkPublicKey')
    .fixed(r.linkSecret, 16, 'linkSecret')
    .finish();
}

/** Strictly decode a scanned link request (throws {@link InvalidInputError} naming the problem). */
export function decodeLinkRequest(bytes: Uint8Array): LinkRequest {
  const r = new Reader(bytes, 'link request');
  if (r.u8('version') !== PROTOCOL_VERSION)
    throw new InvalidInputError('link request: unknown version');
  const out = {
    userId: r.fixed(ID_LENGTH, 'userId'),
    deviceId: r.fixed(ID_LENGTH, 'deviceId'),
    dskPublicKey: r.fixed(32, 'dskPublicKey'),
    linkPublicKey: r.fixed(32, 'linkPublicKey'),
    linkSecret: r.fixed(16, 'linkSecret'),
  };
  r.end();
  return out;
}

/**
 * On the new device: create the one-off key and link secret for `device` (from
 * `createDeviceKeys`). Show `request` as a QR code; keep `linkKey` until the envelope arrives.
 */
export async function createLinkRequest(
  device: DeviceKeys,
): Promise<{ request: LinkRequest; linkKey: KeyPair }> {
  checkDeviceKeys(device);
  const linkKey = await generateX25519KeyPair(false);
  return {
    request: {
      userId: Uint8Array.from(device.userId),
      deviceId: Uint8Array.from(device.deviceId),
      dskPublicKey: Uint8Array.from(device.signing.publicKey),
      linkPublicKey: linkKey.publicKey,
      linkSecret: randomBytes(16),
    },
    linkKey,
  };
}

/** Encode a provisioning bundle. */
export function encodeProvisioningBundle(b: ProvisioningBundle): Bytes {
  if (!b || typeof b !== 'object') throw new InvalidInputError('bundle must be an object');
  checkList<ProvisioningBundle['epochs'][number]>(b.epochs, 'epochs', MAX_PROVISIONED_EPOCHS);
  const w = new Writer().u8(PROTOCOL_VERSION).vec32(b.uskPkcs8, 'uskPkcs8');
  if (b.backupKeyPkcs8 == null) w.u8(0);
  else w.u8(1).vec32(b.backupKeyPkcs8, 'backupKeyPkcs8');
  w.u32(b.epochs.length);
  for (const e of b.epochs) {
    w.fixed(e?.convId, ID_LENGTH, 'convId')
      .u32(e.epoch, 'epoch')
      .fixed(e.epochSecret, 32, 'epochSecret')
      .fixed(e.rosterHash, 32, 'rosterHash');
  }
  return w.finish();
}

/** Strictly decode a provisioning bundle. */
export function decodeProvisioningBundle(bytes: Uint8Array): ProvisioningBundle {
  const r = new Reader(bytes, 'provisioning bundle');
  if (r.u8('version') !== PROTOCOL_VERSION)
    throw new InvalidInputError('provisioning bundle: unknown version');
  const uskPkcs8 = r.vec32('uskPkcs8', 1024);
  const has = r.u8('has_backup');
  if (has > 1) throw new InvalidInputError('provisioning bundle: bad flag');
  const backupKeyPkcs8 = has ? r.vec32('backupKeyPkcs8', 1024) : null;
  const n = r.u32('epoch count');
  if (n > MAX_PROVISIONED_EPOCHS)
    throw new InvalidInputError('provisioning bundle: too many epochs');
  const epochs: ProvisioningBundle['epochs'] = [];
  for (let i = 0; i < n; i++) {
    epochs.push({
      convId: r.fixed(ID_LENGTH, 'convId'),
      epoch: r.u32('epoch'),
      epochSecret: r.fixed(32, 'epochSecret'),
      rosterHash: r.fixed(32, 'rosterHash'),
    });
  }
  r.end();
  return { uskPkcs8, backupKeyPkcs8, epochs };
}

/**
 * On the existing device, after adding the new device to the device list: seal `bundle` to the
 * scanned `request`. The request must name the same user as `existing`.
 */
export async function sealProvisioning(
  existing: DeviceKeys,
  request: LinkRequest,
  bundle: ProvisioningBundle,
): Promise<Bytes> {
  checkDeviceKeys(existing, 'existing');
  encodeLinkRequest(request);
  if (!ctEqual(request.userId, existing.userId))
    throw new InvalidInputError('the link request is for another user');
  return sealEnvelope(existing, {
    kind: 'provision',
    convId: new Uint8Array(ID_LENGTH),
    epoch: 0,
    recipient: {
      userId: request.userId,
      deviceId: request.deviceId,
      prekeyId: 0,
      prekeyKind: 'link',
      publicKey: request.linkPublicKey,
    },
    payload: encodeProvisioningBundle(bundle),
    binding: request.linkSecret,
  });
}

/**
 * On the new device: open the provisioning envelope. `resolveSender` receives the USK public key
 * from the bundle and the sender's device id; it must fetch this user's device list, verify it
 * with that USK (e.g. `trustOnFirstUse`), and return the sender device's DSK public key (or
 * `undefined`). Any failure throws {@link AuthenticationError}.
 */
export async function openProvisioning(
  device: DeviceKeys,
  link: { linkKey: KeyPair; request: LinkRequest },
  envelope: Uint8Array,
  resolveSender: (uskPublicKey: Bytes, senderDeviceId: Bytes) => Promise<Uint8Array | undefined>,
): Promise<ProvisioningBundle> {
  checkDeviceKeys(device);
  if (typeof resolveSender !== 'function')
    throw new InvalidInputError('resolveSender must be a function');
  const { payload, header } = await openEnvelope(
    device,
    {
      prekeyId: 0,
      kind: 'link',
      privateKey: link?.linkKey?.privateKey,
      publicKey: link?.linkKey?.publicKey,
    },
    envelope,
    async (h, p) => {
      if (h.kind !== 'provision' || !ctEqual(h.senderUser, device.userId)) return undefined;
      const usk = await importEd25519PrivateKey(decodeProvisioningBundle(p).uskPkcs8, false);
      return resolveSender(usk.publicKey, h.senderDevice);
    },
    link.request?.linkSecret,
  );
  if (header.kind !== 'provision') throw new AuthenticationError();
  return decodeProvisioningBundle(payload);
}
