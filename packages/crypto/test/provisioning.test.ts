/**
 * Device linking (§3.3 flow A) and attachments (§3.8): the full flows a client runs.
 */
import { describe, expect, it } from 'vitest';
import {
  attachmentCiphertextLength,
  createDeviceKeys,
  createLinkRequest,
  decodeLinkRequest,
  decryptAttachment,
  encodeLinkRequest,
  encryptAttachment,
  importUserSigningKey,
  nextDeviceList,
  openProvisioning,
  randomBytes,
  sealProvisioning,
  signDeviceCert,
  trustOnFirstUse,
  type ProvisioningBundle,
} from '../src/index.ts';
import { expectAuthFailure, flipBit, makeUser } from './helpers.ts';

describe('device linking', () => {
  it('hands the USK and epoch secrets to a new device bound to the QR code', async () => {
    const alice = await makeUser(1);
    const existing = alice.devices[0]!;
    // New device: keys and QR code.
    const fresh = await createDeviceKeys(alice.userId);
    const link = await createLinkRequest(fresh);
    const scanned = decodeLinkRequest(encodeLinkRequest(link.request));
    // Existing device: certify the new device, publish the list, send the bundle.
    const cert = await signDeviceCert(alice.usk, {
      userId: scanned.userId,
      deviceId: scanned.deviceId,
      dskPublicKey: scanned.dskPublicKey,
      createdAtMs: 1,
      displayName: 'new browser',
    });
    alice.list = await nextDeviceList(alice.usk, alice.list, { add: [cert] });
    const bundle: ProvisioningBundle = {
      uskPkcs8: alice.uskPkcs8,
      backupKeyPkcs8: null,
      epochs: [
        {
          convId: randomBytes(16),
          epoch: 3,
          epochSecret: randomBytes(32),
          rosterHash: randomBytes(32),
        },
      ],
    };
    const envelope = await sealProvisioning(existing.keys, scanned, bundle);
    // New device: open it, checking the sender against the device list the bundle's USK signs.
    const resolve = async (usk: Uint8Array, senderDevice: Uint8Array) => {
      expect(usk).toEqual((await importUserSigningKey(alice.uskPkcs8)).publicKey);
      // As the app does: verify its own (fetched) device list with the USK from the bundle.
      const verified = await trustOnFirstUse(alice.userId, usk, alice.list);
      return verified.devices.find((d) => d.deviceId.join() === senderDevice.join())
        ?.signingPublicKey;
    };
    expect(await openProvisioning(fresh, link, envelope, resolve)).toEqual(bundle);
    // Another QR code (other link secret), a tampered envelope, or an unknown sender: refused.
    const other = await createLinkRequest(fresh);
    await expectAuthFailure(
      openProvisioning(fresh, { linkKey: link.linkKey, request: other.request }, envelope, resolve),
    );
    await expectAuthFailure(
      openProvisioning(fresh, link, flipBit(envelope, envelope.length * 8 - 3), resolve),
    );
    await expectAuthFailure(openProvisioning(fresh, link, envelope, async () => undefined));
    await expect(
      sealProvisioning((await makeUser()).devices[0]!.keys, scanned, bundle),
    ).rejects.toThrow('another user');
  });
});

describe('attachments', () => {
  it('encrypt with a fresh key per file and refuse a swapped blob', async () => {
    const data = randomBytes(40_000);
    const { ref, ciphertext } = await encryptAttachment(data, {
      mime: 'image/png',
      name: 'cat.png',
    });
    expect(ciphertext.length).toBe(attachmentCiphertextLength(data.length));
    expect(ref.ctLength).toBe(ciphertext.length);
    expect(await decryptAttachment(ref, ciphertext)).toEqual(data);
    const other = await encryptAttachment(data, { mime: 'image/png', name: 'cat.png' });
    expect(other.ref.key).not.toEqual(ref.key);
    await expectAuthFailure(decryptAttachment(ref, other.ciphertext));
    await expectAuthFailure(
      decryptAttachment(
        { ...ref, fileId: randomBytes(16), ctSha256: other.ref.ctSha256 },
        other.ciphertext,
      ),
    );
    await expectAuthFailure(decryptAttachment(ref, flipBit(ciphertext, 1000)));
  });
});
