/**
 * Property tests (fast-check): every format round-trips; one flipped bit anywhere in a
 * ciphertext, header, signature or envelope is rejected; a message moved to another
 * conversation, epoch, sender or chain index is rejected; a replayed index is rejected.
 *
 * Crypto operations are slow compared with pure functions, so run counts are modest; the
 * generators are chosen to reach every field and branch of the codecs.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeContent,
  decodeDeviceCert,
  decodeDeviceList,
  decodeEnvelopeHeader,
  decodeEpochSecretPayload,
  encodeEnvelopeHeader,
  decodeLinkRequest,
  decodeProvisioningBundle,
  decodePublicPrekey,
  decodeRecoveryKey,
  decodeSignedRoster,
  decryptMessage,
  encodeContent,
  encodeDeviceCert,
  encodeDeviceList,
  encodeEpochSecretPayload,
  encodeLinkRequest,
  encodeMessageHeader,
  encodeProvisioningBundle,
  encodePublicPrekey,
  encodeRecoveryKey,
  encodeSignedRoster,
  encryptMessage,
  EpochState,
  fromBase64Url,
  fromHex,
  MESSAGE_HEADER_LENGTH,
  openChunked,
  openEnvelope,
  openKeyBackupEntry,
  openSecret,
  peekMessageHeader,
  publicPrekey,
  randomBytes,
  sealChunked,
  sealEnvelope,
  sealKeyBackupEntry,
  sealSecret,
  toBase64Url,
  toHex,
  verifyDeviceCert,
  verifyDeviceListUpdate,
  verifyPrekey,
  verifyRoster,
  generateBackupKeyPair,
  trustOnFirstUse,
  type Content,
  type FileRef,
  type KeyPair,
  type MessageHeader,
} from '../src/index.ts';
import {
  commitConversation,
  expectAuthFailure,
  flipBit,
  makeUser,
  type Conversation,
  type TestUser,
} from './helpers.ts';

const RUNS = 40;
const CRYPTO_RUNS = 25;

// ---------------------------------------------------------------------------------------------
// Generators

const bytes = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Uint8Array.from(b));
const id = bytes(16);
const text = (maxLength = 40) => fc.string({ unit: 'grapheme', maxLength });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.maxSafeNat();

const fileRef: fc.Arbitrary<FileRef> = fc.record({
  fileId: id,
  key: bytes(32),
  ctLength: u64,
  ctSha256: bytes(32),
  ptLength: u64,
  mime: text(20),
  name: text(30),
});

const content: fc.Arbitrary<Content> = fc.oneof(
  fc.record({
    type: fc.constant('text' as const),
    text: text(200),
    replyTo: fc.option(id, { nil: null }),
  }),
  fc.record({
    type: fc.constant('file' as const),
    file: fileRef,
    thumbnail: fc.option(fileRef, { nil: null }),
    caption: text(),
  }),
  fc.record({ type: fc.constant('edit' as const), target: id, text: text() }),
  fc.record({
    type: fc.constant('reaction' as const),
    target: id,
    emoji: text(4),
    remove: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('calendar' as const),
    eventId: id,
    revision: u32,
    deleted: fc.boolean(),
    fields: fc
      .dictionary(text(12), text(), { maxKeys: 5 })
      .map((d) => Object.fromEntries(Object.entries(d))),
  }),
  fc.record({
    type: fc.constant('control' as const),
    control: fc.oneof(
      fc.record({ kind: fc.constant('title' as const), title: text() }),
      fc.record({
        kind: fc.constant('avatar' as const),
        avatar: fc.option(fileRef, { nil: null }),
      }),
      fc.record({
        kind: fc.constant('receipt' as const),
        status: fc.constantFrom('delivered' as const, 'read' as const),
        targets: fc.array(id, { maxLength: 4 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), target: id }),
    ),
  }),
);

// ---------------------------------------------------------------------------------------------
// Fixtures shared by the properties (expensive to build, so built once)

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let conv: Conversation;
let otherConv: Conversation;
let nextEpoch: Conversation;
let backupKey: KeyPair;

beforeAll(async () => {
  alice = await makeUser(1);
  bob = await makeUser(1);
  carol = await makeUser(1);
  const users = [alice, bob, carol];
  conv = await commitConversation(users, alice.devices[0]!);
  otherConv = await commitConversation(users, alice.devices[0]!);
  nextEpoch = await commitConversation(users, alice.devices[0]!, {
    convId: conv.convId,
    previous: conv.roster,
  });
  backupKey = (await generateBackupKeyPair()).keyPair;
}, 60_000);

const A = () => alice.devices[0]!;
const B = () => bob.devices[0]!;
const C = () => carol.devices[0]!;

async function send(
  c: Conversation,
  content: Content,
): Promise<{ wire: Uint8Array; header: MessageHeader }> {
  return encryptMessage({ state: c.states.get(A())!, sender: A().keys, content });
}

// ---------------------------------------------------------------------------------------------

describe('round trips', () => {
  it('hex and base64url', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(fromHex(toHex(b))).toEqual(Uint8Array.from(b));
        expect(fromBase64Url(toBase64Url(b))).toEqual(Uint8Array.from(b));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('content', () => {
    fc.assert(
      fc.property(content, (c) => {
        expect(decodeContent(encodeContent(c))).toEqual(c);
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('message headers, envelope headers, payloads, link requests and provisioning bundles', () => {
    const header = fc.record({
      convId: id,
      epoch: u32,
      rosterHash: bytes(32),
      senderUser: id,
      senderDevice: id,
      chainIndex: u32,
      clientMsgId: id,
      sentAtMs: u64,
      contentType: fc.constantFrom(
        'text' as const,
        'file' as const,
        'edit' as const,
        'reaction' as const,
        'calendar' as const,
        'control' as const,
      ),
    });
    fc.assert(
      fc.property(header, (h) => {
        const bytesOut = encodeMessageHeader(h);
        expect(bytesOut).toHaveLength(MESSAGE_HEADER_LENGTH);
        expect(peekMessageHeader(bytesOut)).toEqual(h);
      }),
      { numRuns: RUNS },
    );
    const envHeader = fc.record({
      kind: fc.constantFrom('epoch' as const, 'provision' as const, 'history' as const),
      convId: id,
      epoch: u32,
      senderUser: id,
      senderDevice: id,
      recipientUser: id,
      recipientDevice: id,
      recipientPrekeyId: u32,
      prekeyKind: fc.constantFrom('spk' as const, 'opk' as const, 'link' as const),
    });
    fc.assert(
      fc.property(envHeader, (h) => {
        expect(decodeEnvelopeHeader(encodeEnvelopeHeader(h))).toEqual(h);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(bytes(32), bytes(32), (epochSecret, rosterHash) => {
        expect(
          decodeEpochSecretPayload(encodeEpochSecretPayload({ epochSecret, rosterHash })),
        ).toEqual({ epochSecret, rosterHash });
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        fc.record({
          userId: id,
          deviceId: id,
          dskPublicKey: bytes(32),
          linkPublicKey: bytes(32),
          linkSecret: bytes(16),
        }),
        (r) => {
          expect(decodeLinkRequest(encodeLinkRequest(r))).toEqual(r);
        },
      ),
      { numRuns: RUNS },
    );
    const bundle = fc.record({
      uskPkcs8: fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from(b)),
      backupKeyPkcs8: fc.option(
        fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from(b)),
        { nil: null },
      ),
      epochs: fc.array(
        fc.record({ convId: id, epoch: u32, epochSecret: bytes(32), rosterHash: bytes(32) }),
        { maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(bundle, (b) => {
        expect(decodeProvisioningBundle(encodeProvisioningBundle(b))).toEqual(b);
      }),
      { numRuns: RUNS },
    );
  });

  it('signed structures: certificates, device lists, prekeys, rosters', async () => {
    for (const user of [alice, bob]) {
      expect(decodeDeviceList(encodeDeviceList(user.list))).toEqual(user.list);
      for (const d of user.devices) {
        expect(decodeDeviceCert(encodeDeviceCert(d.cert))).toEqual(d.cert);
        expect(decodePublicPrekey(encodePublicPrekey(publicPrekey(d.spk)))).toEqual(
          publicPrekey(d.spk),
        );
      }
    }
    expect(decodeSignedRoster(encodeSignedRoster(conv.roster))).toEqual(conv.roster);
  });

  it('recovery keys', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32), async (ssk) => {
        expect(await decodeRecoveryKey(await encodeRecoveryKey(ssk))).toEqual(ssk);
      }),
      { numRuns: RUNS },
    );
  });

  it('messages of any content, and epoch state through storage', async () => {
    await fc.assert(
      fc.asyncProperty(content, async (c) => {
        const { wire } = await send(conv, c);
        const restored = await EpochState.restore(
          structuredClone(conv.states.get(B())!.serialize()),
        );
        const got = await decryptMessage(wire, {
          convId: conv.convId,
          epochs: restored,
          directory: conv.directory,
        });
        expect(got.content).toEqual(c);
        // The restored copy advanced; the original did not, and still accepts the message once.
        await decryptMessage(wire, {
          convId: conv.convId,
          epochs: conv.states.get(B())!,
          directory: conv.directory,
        });
      }),
      { numRuns: CRYPTO_RUNS },
    );
  });

  it('Cobblestone at arbitrary lengths and contexts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40_000 }),
        fc.uint8Array({ maxLength: 40 }),
        async (n, ctx) => {
          const key = randomBytes(32);
          const pt = randomBytes(n);
          expect(await openChunked(key, await sealChunked(key, pt, ctx), ctx)).toEqual(pt);
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('a single flipped bit is rejected', () => {
  it('anywhere in a message (header or ciphertext)', async () => {
    const { wire } = await send(conv, { type: 'text', text: 'flip me', replyTo: null });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: wire.length * 8 - 1 }), async (bit) => {
        await expectAuthFailure(
          decryptMessage(flipBit(wire, bit), {
            convId: conv.convId,
            epochs: conv.states.get(B())!,
            directory: conv.directory,
          }),
        );
      }),
      { numRuns: CRYPTO_RUNS * 2 },
    );
    // After all the forgeries, the genuine message is still accepted once.
    await decryptMessage(wire, {
      convId: conv.convId,
      epochs: conv.states.get(B())!,
      directory: conv.directory,
    });
  });

  it('anywhere in an envelope', async () => {
    const b = B();
    const wire = await sealEnvelope(A().keys, {
      kind: 'epoch',
      convId: conv.convId,
      epoch: 9,
      recipient: {
        userId: b.keys.userId,
        deviceId: b.keys.deviceId,
        prekeyId: b.spk.prekeyId,
        prekeyKind: 'spk',
        publicKey: b.spk.publicKey,
      },
      payload: randomBytes(64),
    });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: wire.length * 8 - 1 }), async (bit) => {
        await expectAuthFailure(
          openEnvelope(b.keys, b.spk, flipBit(wire, bit), A().keys.signing.publicKey),
        );
      }),
      { numRuns: CRYPTO_RUNS * 2 },
    );
  });

  it('in any signature: certificate, device list, prekey, roster', async () => {
    const pin = (await trustOnFirstUse(alice.userId, alice.usk.publicKey, alice.list)).pin;
    const d = A();
    const owner = {
      userId: d.keys.userId,
      deviceId: d.keys.deviceId,
      signingPublicKey: d.keys.signing.publicKey,
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 511 }), async (bit) => {
        await expectAuthFailure(
          verifyDeviceCert(
            { ...d.cert, signature: flipBit(d.cert.signature, bit) },
            alice.usk.publicKey,
          ),
        );
        await expectAuthFailure(
          verifyDeviceListUpdate(pin, {
            ...alice.list,
            signature: flipBit(alice.list.signature, bit),
          }),
        );
        await expectAuthFailure(
          verifyPrekey({ ...publicPrekey(d.spk), signature: flipBit(d.spk.signature, bit) }, owner),
        );
        await expectAuthFailure(
          verifyRoster(
            { ...conv.roster, signature: flipBit(conv.roster.signature, bit) },
            { directory: conv.directory },
          ),
        );
      }),
      { numRuns: CRYPTO_RUNS },
    );
  });

  it('anywhere in a Cobblestone ciphertext, a secret-storage record or a key-backup entry', async () => {
    const key = randomBytes(32);
    const chunked = await sealChunked(key, randomBytes(20_000), Uint8Array.of(1));
    const ssk = randomBytes(32);
    const record = await sealSecret(ssk, alice.userId, 'usk', 1, randomBytes(48));
    const entry = await sealKeyBackupEntry(backupKey.publicKey, conv.convId, 0, {
      epochSecret: randomBytes(32),
      rosterHash: randomBytes(32),
    });
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (n) => {
        await expectAuthFailure(
          openChunked(key, flipBit(chunked, n % (chunked.length * 8)), Uint8Array.of(1)),
        );
        await expectAuthFailure(
          openSecret(ssk, alice.userId, 'usk', flipBit(record, n % (record.length * 8))),
        );
        await expectAuthFailure(
          openKeyBackupEntry(backupKey, conv.convId, 0, flipBit(entry, n % (entry.length * 8))),
        );
      }),
      { numRuns: CRYPTO_RUNS },
    );
  });
});

describe('a moved message is rejected', () => {
  type Move = 'conversation' | 'epoch' | 'sender' | 'index';
  it('to another conversation, epoch, sender or chain index, even when every routing check passes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Move>('conversation', 'epoch', 'sender', 'index'),
        fc.integer({ min: 1, max: 50 }),
        async (move, delta) => {
          const { wire, header } = await send(conv, {
            type: 'text',
            text: 'where am I',
            replyTo: null,
          });
          // Rewrite the header so the receiver's routing checks (conversation, epoch, roster hash,
          // membership, device list) all pass, then let the AEAD and the signature decide.
          let moved: MessageHeader = header;
          let target = conv;
          if (move === 'conversation') {
            target = otherConv;
            const s = otherConv.states.get(B())!;
            moved = { ...header, convId: otherConv.convId, rosterHash: s.rosterHash };
          } else if (move === 'epoch') {
            target = nextEpoch;
            const s = nextEpoch.states.get(B())!;
            moved = { ...header, epoch: s.epoch, rosterHash: s.rosterHash };
          } else if (move === 'sender') {
            moved = { ...header, senderUser: C().keys.userId, senderDevice: C().keys.deviceId };
          } else {
            moved = { ...header, chainIndex: header.chainIndex + delta };
          }
          const forged = new Uint8Array(wire);
          forged.set(encodeMessageHeader(moved));
          await expectAuthFailure(
            decryptMessage(forged, {
              convId: target.convId,
              epochs: target.states.get(B())!,
              directory: target.directory,
            }),
          );
          // The genuine message is unaffected.
          await decryptMessage(wire, {
            convId: conv.convId,
            epochs: conv.states.get(B())!,
            directory: conv.directory,
          });
        },
      ),
      { numRuns: CRYPTO_RUNS },
    );
  });
});

describe('replay', () => {
  it('accepts each message exactly once, whatever the delivery order and repetition', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.nat(7), { minLength: 1, maxLength: 20 }),
        async (n, order) => {
          const c = await commitConversation([alice, bob], A());
          const wires: Uint8Array[] = [];
          for (let i = 0; i < n; i++) {
            wires.push(
              (
                await encryptMessage({
                  state: c.states.get(A())!,
                  sender: A().keys,
                  content: { type: 'text', text: `#${i}`, replyTo: null },
                })
              ).wire,
            );
          }
          const seen = new Set<number>();
          for (const k of order) {
            const i = k % n;
            const result = decryptMessage(wires[i]!, {
              convId: c.convId,
              epochs: c.states.get(B())!,
              directory: c.directory,
            });
            if (seen.has(i)) await expectAuthFailure(result);
            else {
              expect((await result).header.chainIndex).toBe(i);
              seen.add(i);
            }
          }
        },
      ),
      { numRuns: 10 },
    );
  });
});
