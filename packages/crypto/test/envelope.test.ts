/**
 * Pairwise envelopes (§3.4) and prekeys: the payload reaches only the named device, the sender is
 * authenticated by a signature inside the encryption, and the header cannot be changed.
 */
import { describe, expect, it } from 'vitest';
import {
  createOneTimePrekeys,
  decodePublicPrekey,
  encodePublicPrekey,
  openEnvelope,
  peekEnvelopeHeader,
  prekeyMaintenance,
  PREKEY_POLICY,
  publicPrekey,
  randomBytes,
  sealEnvelope,
  verifyPrekey,
  type EnvelopeRecipient,
  type PrivatePrekey,
} from '../src/index.ts';
import { expectAuthFailure, flipBit, makeUser, type TestDevice } from './helpers.ts';

function recipientOf(d: TestDevice, prekey: PrivatePrekey = d.spk): EnvelopeRecipient {
  return {
    userId: d.keys.userId,
    deviceId: d.keys.deviceId,
    prekeyId: prekey.prekeyId,
    prekeyKind: prekey.kind,
    publicKey: prekey.publicKey,
  };
}

describe('prekeys', () => {
  it('are signed by the DSK over owner, kind and id, and verify only for their owner', async () => {
    const alice = await makeUser();
    const dev = alice.devices[0]!;
    const owner = {
      userId: dev.keys.userId,
      deviceId: dev.keys.deviceId,
      signingPublicKey: dev.keys.signing.publicKey,
    };
    const spk = publicPrekey(dev.spk);
    expect(decodePublicPrekey(encodePublicPrekey(spk))).toEqual(spk);
    await verifyPrekey(spk, owner);
    await expectAuthFailure(verifyPrekey({ ...spk, kind: 'opk' }, owner));
    await expectAuthFailure(verifyPrekey({ ...spk, prekeyId: 2 }, owner));
    await expectAuthFailure(verifyPrekey({ ...spk, publicKey: randomBytes(32) }, owner));
    await expectAuthFailure(verifyPrekey(spk, { ...owner, deviceId: randomBytes(16) }));
    await expectAuthFailure(
      verifyPrekey(spk, {
        ...owner,
        signingPublicKey: (await makeUser()).devices[0]!.keys.signing.publicKey,
      }),
    );
    await expectAuthFailure(
      verifyPrekey(spk, owner, {
        nowMs: spk.createdAtMs + 30 * 86_400_000,
        maxAgeMs: 21 * 86_400_000,
      }),
    );
    const opks = await createOneTimePrekeys(dev.keys, 3, 10);
    expect(opks.map((o) => o.prekeyId)).toEqual([10, 11, 12]);
    for (const o of opks) await verifyPrekey(o, owner);
  });

  it('follow the rotation policy', () => {
    const day = 86_400_000;
    const now = 100 * day;
    expect(prekeyMaintenance({ retiredSpks: [], unusedOpkCount: 100 }, now)).toEqual({
      rotateSpk: true,
      deleteSpkIds: [],
      opksToUpload: 0,
    });
    const actions = prekeyMaintenance(
      {
        currentSpk: { prekeyId: 3, createdAtMs: now - 6 * day },
        retiredSpks: [
          { prekeyId: 1, retiredAtMs: now - 15 * day },
          { prekeyId: 2, retiredAtMs: now - 13 * day },
        ],
        unusedOpkCount: 10,
      },
      now,
    );
    expect(actions).toEqual({
      rotateSpk: false,
      deleteSpkIds: [1],
      opksToUpload: PREKEY_POLICY.opkBatchSize,
    });
    expect(
      prekeyMaintenance(
        {
          currentSpk: { prekeyId: 3, createdAtMs: now - 7 * day },
          retiredSpks: [],
          unusedOpkCount: 50,
        },
        now,
      ).rotateSpk,
    ).toBe(true);
  });
});

describe('envelopes', () => {
  it('carry a payload to the named device, authenticated by the sender DSK', async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const [a, b] = [alice.devices[0]!, bob.devices[0]!];
    const convId = randomBytes(16);
    const payload = randomBytes(64);
    const wire = await sealEnvelope(a.keys, {
      kind: 'epoch',
      convId,
      epoch: 7,
      recipient: recipientOf(b),
      payload,
    });
    const header = peekEnvelopeHeader(wire);
    expect(header.senderDevice).toEqual(a.keys.deviceId);
    expect(header.recipientDevice).toEqual(b.keys.deviceId);
    const opened = await openEnvelope(b.keys, b.spk, wire, a.keys.signing.publicKey);
    expect(opened.payload).toEqual(payload);
    expect(opened.header).toEqual({
      kind: 'epoch',
      convId,
      epoch: 7,
      senderUser: alice.userId,
      senderDevice: a.keys.deviceId,
      recipientUser: bob.userId,
      recipientDevice: b.keys.deviceId,
      recipientPrekeyId: 1,
      prekeyKind: 'spk',
    });
  });

  it('cannot be opened by another device, with another prekey, or verified by another sender', async () => {
    const alice = await makeUser();
    const bob = await makeUser(2);
    const [a, b, b2] = [alice.devices[0]!, bob.devices[0]!, bob.devices[1]!];
    const wire = await sealEnvelope(a.keys, {
      kind: 'epoch',
      convId: randomBytes(16),
      epoch: 1,
      recipient: recipientOf(b),
      payload: randomBytes(40),
    });
    await expectAuthFailure(openEnvelope(b2.keys, b2.spk, wire, a.keys.signing.publicKey));
    await expectAuthFailure(openEnvelope(b.keys, b2.spk, wire, a.keys.signing.publicKey));
    await expectAuthFailure(openEnvelope(b.keys, b.spk, wire, b2.keys.signing.publicKey));
  });

  it('rejects every single flipped bit (sampled across header, enc, length and ciphertext)', async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const [a, b] = [alice.devices[0]!, bob.devices[0]!];
    const wire = await sealEnvelope(a.keys, {
      kind: 'history',
      convId: randomBytes(16),
      epoch: 3,
      recipient: recipientOf(b),
      payload: randomBytes(64),
    });
    for (let bit = 0; bit < wire.length * 8; bit += 13) {
      await expectAuthFailure(
        openEnvelope(b.keys, b.spk, flipBit(wire, bit), a.keys.signing.publicKey),
      );
    }
    await expectAuthFailure(
      openEnvelope(b.keys, b.spk, wire.subarray(0, wire.length - 1), a.keys.signing.publicKey),
    );
    await expectAuthFailure(
      openEnvelope(b.keys, b.spk, new Uint8Array([...wire, 0]), a.keys.signing.publicKey),
    );
  });

  it('binds the link secret for provisioning envelopes', async () => {
    const alice = await makeUser(2);
    const [a, b] = [alice.devices[0]!, alice.devices[1]!];
    const binding = randomBytes(16);
    const recipient = { ...recipientOf(b), prekeyKind: 'link' as const, prekeyId: 0 };
    const wire = await sealEnvelope(a.keys, {
      kind: 'provision',
      convId: new Uint8Array(16),
      epoch: 0,
      recipient,
      payload: Uint8Array.of(1),
      binding,
    });
    const prekey = {
      prekeyId: 0,
      kind: 'link' as const,
      privateKey: b.spk.privateKey,
      publicKey: b.spk.publicKey,
    };
    expect(
      (await openEnvelope(b.keys, prekey, wire, a.keys.signing.publicKey, binding)).payload,
    ).toEqual(Uint8Array.of(1));
    await expectAuthFailure(
      openEnvelope(b.keys, prekey, wire, a.keys.signing.publicKey, randomBytes(16)),
    );
    await expect(
      sealEnvelope(a.keys, {
        kind: 'provision',
        convId: new Uint8Array(16),
        epoch: 0,
        recipient,
        payload: Uint8Array.of(1),
      }),
    ).rejects.toThrow('binding must be a Uint8Array');
  });
});
