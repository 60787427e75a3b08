/**
 * Identity (§3.2): certificates and device lists verify under the USK, and every way the server
 * could cheat with them is rejected: a rolled-back list, a device added without the USK's
 * signature, a foreign signature, an equivocating list, a skipped version.
 */
import { describe, expect, it } from 'vitest';
import {
  createDeviceDirectory,
  createDeviceKeys,
  decodeDeviceCert,
  decodeDeviceList,
  deviceListHash,
  encodeDeviceCert,
  encodeDeviceList,
  ed25519Sign,
  generateUserSigningKey,
  importUserSigningKey,
  InvalidInputError,
  isSmallOrderEd25519,
  nextDeviceList,
  openDeviceName,
  signDeviceCert,
  signDeviceName,
  signDeviceList,
  trustOnFirstUse,
  verifyDeviceCert,
  verifyDeviceListUpdate,
  checkEd25519PublicKey,
  ed25519Verify,
} from '../src/index.ts';
import { addDevice, expectAuthFailure, flipBit, makeDevice, makeUser } from './helpers.ts';

describe('user signing key', () => {
  it('is returned non-extractable, with PKCS#8 for secret storage that re-imports to the same key', async () => {
    const { usk, pkcs8 } = await generateUserSigningKey();
    expect(usk.privateKey.extractable).toBe(false);
    const again = await importUserSigningKey(pkcs8);
    expect(again.publicKey).toEqual(usk.publicKey);
    expect(again.privateKey.extractable).toBe(false);
    const sig = await ed25519Sign(again.privateKey, Uint8Array.of(1, 2, 3));
    expect(await ed25519Verify(usk.publicKey, Uint8Array.of(1, 2, 3), sig)).toBe(true);
  });

  it('rejects small-order and non-canonical Ed25519 public keys on import', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(isSmallOrderEd25519(identity)).toBe(true);
    expect(() => checkEd25519PublicKey(identity)).toThrow('must not be a small-order point');
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[31] = 0x7f;
    expect(() => checkEd25519PublicKey(nonCanonical)).toThrow('canonically encoded');
    expect(() => checkEd25519PublicKey(new Uint8Array(31))).toThrow('must be 32 bytes');
  });
});

describe('device certificates', () => {
  it('round-trip and verify under the USK, and only under it', async () => {
    const user = await makeUser();
    const cert = user.devices[0]!.cert;
    expect(decodeDeviceCert(encodeDeviceCert(cert))).toEqual(cert);
    await verifyDeviceCert(cert, user.usk.publicKey);
    const other = await generateUserSigningKey();
    await expectAuthFailure(verifyDeviceCert(cert, other.usk.publicKey));
    await expectAuthFailure(
      verifyDeviceCert({ ...cert, displayName: 'renamed' }, user.usk.publicKey),
    );
  });

  it('refuses labelled bad input', async () => {
    const user = await makeUser();
    const body = { ...user.devices[0]!.cert, displayName: 'x'.repeat(300) };
    await expect(signDeviceCert(user.usk, body)).rejects.toThrow(
      'displayName must be at most 256 bytes',
    );
    await expect(
      signDeviceCert(user.usk, { ...body, displayName: 'ok', userId: new Uint8Array(15) }),
    ).rejects.toThrow('userId must be 16 bytes');
    await expect(createDeviceKeys(new Uint8Array(3))).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('device names', () => {
  it('open under the USK only, and reject any flipped bit', async () => {
    const user = await makeUser();
    const body = {
      userId: user.userId,
      deviceId: user.devices[0]!.keys.deviceId,
      name: 'Work laptop ☕',
      renamedAtMs: 1_700_000_000_000,
    };
    const signed = await signDeviceName(user.usk, body);
    expect(await openDeviceName(signed, user.usk.publicKey)).toEqual(body);
    const other = await generateUserSigningKey();
    await expectAuthFailure(openDeviceName(signed, other.usk.publicKey));
    for (let bit = 0; bit < signed.length * 8; bit += 7)
      await expectAuthFailure(openDeviceName(flipBit(signed, bit), user.usk.publicKey));
    await expectAuthFailure(
      openDeviceName(signed.subarray(0, signed.length - 1), user.usk.publicKey),
    );
    // A certificate's signature is over another label: it does not pass as a name's.
    const cert = user.devices[0]!.cert;
    await expectAuthFailure(openDeviceName(encodeDeviceCert(cert), user.usk.publicKey));
  });

  it('refuses labelled bad input', async () => {
    const user = await makeUser();
    const body = {
      userId: user.userId,
      deviceId: user.devices[0]!.keys.deviceId,
      name: 'x'.repeat(257),
      renamedAtMs: 0,
    };
    await expect(signDeviceName(user.usk, body)).rejects.toThrow('name must be at most 256 bytes');
    await expect(
      signDeviceName(user.usk, { ...body, name: 'ok', deviceId: new Uint8Array(3) }),
    ).rejects.toThrow('deviceId must be 16 bytes');
  });
});

describe('device lists', () => {
  it('pin on first use and advance one version at a time', async () => {
    const user = await makeUser(1);
    const first = await trustOnFirstUse(user.userId, user.usk.publicKey, user.list);
    expect(first.pin.listVersion).toBe(1);
    expect(first.devices).toHaveLength(1);
    expect(decodeDeviceList(encodeDeviceList(user.list))).toEqual(user.list);

    const v1 = user.list;
    await addDevice(user);
    const v2 = user.list;
    expect(v2.listVersion).toBe(2);
    expect(v2.prevHash).toEqual(await deviceListHash(v1));
    const second = await verifyDeviceListUpdate(first.pin, v2);
    expect(second.pin.listVersion).toBe(2);
    expect(second.devices).toHaveLength(2);
    // Re-presenting the pinned list is fine and changes nothing.
    expect((await verifyDeviceListUpdate(second.pin, v2)).pin).toEqual(second.pin);
    // A run of consecutive lists can be verified at once.
    await addDevice(user);
    const third = await verifyDeviceListUpdate(first.pin, [v2, user.list]);
    expect(third.pin.listVersion).toBe(3);
  });

  it('rejects a rolled-back list', async () => {
    const user = await makeUser(1);
    const v1 = user.list;
    await addDevice(user);
    const pinned = (
      await verifyDeviceListUpdate(
        (await trustOnFirstUse(user.userId, user.usk.publicKey, v1)).pin,
        user.list,
      )
    ).pin;
    await expectAuthFailure(verifyDeviceListUpdate(pinned, v1));
  });

  it('rejects a device added without the USK signing its certificate', async () => {
    const user = await makeUser(1);
    const pin = (await trustOnFirstUse(user.userId, user.usk.publicKey, user.list)).pin;
    // The server forges a certificate for its own device under a key it controls...
    const rogue = await generateUserSigningKey();
    const ghost = await makeDevice(user.userId, rogue.usk, 'ghost');
    // ...and cannot get the list signed by the USK: signing with its own key fails.
    const forgedList = await signDeviceList(rogue.usk, {
      ...user.list,
      listVersion: 2,
      prevHash: pin.listHash,
      certs: [...user.list.certs, ghost.cert],
    });
    await expectAuthFailure(verifyDeviceListUpdate(pin, forgedList));
    // Even a list genuinely signed by the USK is refused if one certificate is not (a user
    // tricked into signing a list that carries a foreign certificate).
    const tricked = await signDeviceList(user.usk, { ...forgedList });
    await expectAuthFailure(verifyDeviceListUpdate(pin, tricked));
    // A certificate of the same user signed by someone else is refused on its own as well.
    await expectAuthFailure(verifyDeviceCert(ghost.cert, user.usk.publicKey));
  });

  it('rejects foreign signatures, equivocation, skipped versions and wrong prevHash', async () => {
    const user = await makeUser(1);
    const pin = (await trustOnFirstUse(user.userId, user.usk.publicKey, user.list)).pin;
    const other = await makeUser(1);
    // Another user's valid list presented for this user.
    await expectAuthFailure(verifyDeviceListUpdate(pin, other.list));
    // A different list under the pinned version (the server showing two histories).
    const fork = await signDeviceList(user.usk, { ...user.list, certs: [] });
    await expectAuthFailure(verifyDeviceListUpdate(pin, fork));
    // Version 3 without version 2: its prevHash cannot be checked.
    await addDevice(user);
    await addDevice(user);
    await expectAuthFailure(verifyDeviceListUpdate(pin, user.list));
    // Version 2 that does not chain to the pinned list.
    const unchained = await signDeviceList(user.usk, {
      ...user.list,
      listVersion: 2,
      prevHash: new Uint8Array(32).fill(7),
    });
    await expectAuthFailure(verifyDeviceListUpdate(pin, unchained));
    // A flipped bit in the signature.
    await expectAuthFailure(
      verifyDeviceListUpdate(pin, {
        ...user.list,
        listVersion: 1,
        signature: flipBit(user.list.signature, 9),
      }),
    );
  });

  it('revokes devices permanently and the directory forgets them', async () => {
    const user = await makeUser(2);
    const [a, b] = user.devices;
    const pin = (await trustOnFirstUse(user.userId, user.usk.publicKey, user.list)).pin;
    user.list = await nextDeviceList(user.usk, user.list, { revoke: [b!.keys.deviceId] });
    const verified = await verifyDeviceListUpdate(pin, user.list);
    expect(verified.devices.map((d) => d.deviceId)).toEqual([a!.keys.deviceId]);
    expect(user.list.revokedDeviceIds).toEqual([b!.keys.deviceId]);
    const directory = createDeviceDirectory([verified]);
    expect(directory.deviceKey(user.userId, a!.keys.deviceId)).toEqual(a!.keys.signing.publicKey);
    expect(directory.deviceKey(user.userId, b!.keys.deviceId)).toBeUndefined();
    await expect(nextDeviceList(user.usk, user.list, { add: [b!.cert] })).rejects.toThrow(
      'revoked device id cannot be added back',
    );
  });

  it('decodes strictly', async () => {
    const user = await makeUser(2);
    const bytes = encodeDeviceList(user.list);
    expect(() => decodeDeviceList(bytes.subarray(0, bytes.length - 1))).toThrow(InvalidInputError);
    expect(() => decodeDeviceList(new Uint8Array([...bytes, 0]))).toThrow('trailing bytes');
    const unsorted = { ...user.list, certs: [...user.list.certs].reverse() };
    expect(() => encodeDeviceList(unsorted)).toThrow('sorted');
  });
});
