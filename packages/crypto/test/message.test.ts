/**
 * Messages (§3.6) and the epoch key schedule (§3.5): every receiver check in order, replay and
 * duplicate rejection, gap reporting, the skipped-key cache bound, the forward-jump limit, storage
 * round trips, and an insider (a member who knows the epoch keys) unable to move a message.
 */
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  concatBytes,
  createDeviceDirectory,
  decryptMessage,
  encodeContent,
  encodeMessageHeader,
  encryptMessage,
  EpochState,
  KDF_LABELS,
  MESSAGE_HEADER_LENGTH,
  peekMessageHeader,
  randomBytes,
  SIG_LABELS,
  trustOnFirstUse,
  ed25519Sign,
  Writer,
  type Content,
  type MessageHeader,
} from '../src/index.ts';
import {
  commitConversation,
  expectAuthFailure,
  flipBit,
  makeUser,
  type Conversation,
  type TestDevice,
} from './helpers.ts';

const text = (t: string): Content => ({ type: 'text', text: t, replyTo: null });

async function setup(deviceCounts: number[] = [1, 1]) {
  const users = [];
  for (const n of deviceCounts) users.push(await makeUser(n));
  const conv = await commitConversation(users, users[0]!.devices[0]!);
  return { users, conv, alice: users[0]!.devices[0]!, bob: users[1]!.devices[0]! };
}

function ctx(
  conv: Conversation,
  device: TestDevice,
  extra: { isDuplicate?: (id: Uint8Array) => boolean } = {},
) {
  return {
    convId: conv.convId,
    epochs: conv.states.get(device)!,
    directory: conv.directory,
    ...extra,
  };
}

const chainCache = new Map<string, { index: number; chainKey: Uint8Array<ArrayBuffer> }>();

/**
 * Build a fully valid message at any chain index without an EpochState, deriving the chain with
 * WebCrypto's one-shot HKDF (an independent path from the package's extract-then-expand).
 */
async function craftMessage(
  sender: TestDevice,
  secret: Uint8Array<ArrayBuffer>,
  header: MessageHeader,
  content: Content,
  options: { signHeader?: MessageHeader } = {},
): Promise<Uint8Array> {
  const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  let ck = new Uint8Array(
    await crypto.subtle.deriveBits(
      {
        name: 'HKDF',
        hash: 'SHA-256',
        salt: header.rosterHash,
        info: concatBytes(KDF_LABELS.senderChain, header.senderDevice),
      },
      ikm,
      256,
    ),
  );
  const hmac = async (k: Uint8Array<ArrayBuffer>, d: Uint8Array<ArrayBuffer>) =>
    new Uint8Array(
      await crypto.subtle.sign(
        'HMAC',
        await crypto.subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
        d,
      ),
    );
  // Resume from the last chain position computed for this chain, to keep long jumps cheap.
  const chainId = `${secret.join()}/${header.senderDevice.join()}`;
  let i = 0;
  const cached = chainCache.get(chainId);
  if (cached && cached.index <= header.chainIndex) ({ index: i, chainKey: ck } = cached);
  for (; i < header.chainIndex; i++) ck = await hmac(ck, Uint8Array.of(2));
  chainCache.set(chainId, { index: i, chainKey: ck });
  const mk = await hmac(ck, Uint8Array.of(1));
  const t1 = await hmac(mk, concatBytes(KDF_LABELS.messageKey, Uint8Array.of(1)));
  const t2 = await hmac(mk, concatBytes(t1, KDF_LABELS.messageKey, Uint8Array.of(2)));
  const okm = concatBytes(t1, t2);
  const headerBytes = encodeMessageHeader(header);
  const contentBytes = encodeContent(content);
  const signed = encodeMessageHeader(options.signHeader ?? header);
  const sig = await ed25519Sign(
    sender.keys.signing.privateKey,
    concatBytes(SIG_LABELS.message, signed, contentBytes),
  );
  const body = new Writer().vec32(contentBytes).raw(sig).finish();
  const inner = new Uint8Array(Math.ceil((body.length + 1) / 256) * 256);
  inner.set(body);
  const aes = await crypto.subtle.importKey('raw', okm.slice(0, 32), 'AES-GCM', false, ['encrypt']);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: okm.slice(32, 44),
        additionalData: concatBytes(KDF_LABELS.messageAad, headerBytes),
      },
      aes,
      inner,
    ),
  );
  return concatBytes(headerBytes, ct);
}

describe('messages', () => {
  it('round-trip between devices, with padding to 256-byte blocks', async () => {
    const { conv, alice, bob } = await setup();
    for (const t of ['', 'hi', 'x'.repeat(300)]) {
      const { wire, header } = await encryptMessage({
        state: conv.states.get(alice)!,
        sender: alice.keys,
        content: text(t),
      });
      expect((wire.length - MESSAGE_HEADER_LENGTH - 16) % 256).toBe(0);
      expect(peekMessageHeader(wire)).toEqual(header);
      const got = await decryptMessage(wire, ctx(conv, bob));
      expect(got.content).toEqual(text(t));
      expect(got.header).toEqual(header);
      expect(got.gap).toBeNull();
    }
  });

  it('matches an independently derived key schedule (native HKDF) for a crafted message', async () => {
    const { conv, alice, bob } = await setup();
    const state = conv.states.get(alice)!;
    const header: MessageHeader = {
      convId: conv.convId,
      epoch: 0,
      rosterHash: state.rosterHash,
      senderUser: alice.keys.userId,
      senderDevice: alice.keys.deviceId,
      chainIndex: 0,
      clientMsgId: randomBytes(16),
      sentAtMs: 1,
      contentType: 'text',
    };
    const wire = await craftMessage(alice, state.exportEpochSecret(), header, text('crafted'));
    expect((await decryptMessage(wire, ctx(conv, bob))).content).toEqual(text('crafted'));
  });

  it('runs the receiver checks: conversation, epoch, roster hash, membership, device list', async () => {
    const { users, conv, alice, bob } = await setup();
    const { wire } = await encryptMessage({
      state: conv.states.get(alice)!,
      sender: alice.keys,
      content: text('x'),
    });
    // 2. fetched for another conversation.
    await expectAuthFailure(decryptMessage(wire, { ...ctx(conv, bob), convId: randomBytes(16) }));
    // 3. unknown epoch.
    await expectAuthFailure(decryptMessage(wire, { ...ctx(conv, bob), epochs: () => undefined }));
    // 3. an epoch state whose roster hash differs (the next epoch of the same conversation).
    const next = await commitConversation(users, alice, {
      convId: conv.convId,
      previous: conv.roster,
    });
    await expectAuthFailure(
      decryptMessage(wire, { ...ctx(conv, bob), epochs: next.states.get(bob)! }),
    );
    // 4. the sender's device is no longer in its user's device list.
    const withoutAlice = createDeviceDirectory([
      await trustOnFirstUse(users[1]!.userId, users[1]!.usk.publicKey, users[1]!.list),
    ]);
    await expectAuthFailure(decryptMessage(wire, { ...ctx(conv, bob), directory: withoutAlice }));
    // The genuine context still accepts it (nothing above consumed the index).
    expect((await decryptMessage(wire, ctx(conv, bob))).content).toEqual(text('x'));
  });

  it('rejects a replayed index and a duplicate client message id', async () => {
    const { conv, alice, bob } = await setup();
    const { wire, header } = await encryptMessage({
      state: conv.states.get(alice)!,
      sender: alice.keys,
      content: text('once'),
    });
    await decryptMessage(wire, ctx(conv, bob));
    await expectAuthFailure(decryptMessage(wire, ctx(conv, bob)));
    const seen = new Set<string>([header.clientMsgId.join()]);
    const again = await encryptMessage({
      state: conv.states.get(alice)!,
      sender: alice.keys,
      content: text('dup'),
      clientMsgId: header.clientMsgId,
    });
    await expectAuthFailure(
      decryptMessage(again.wire, ctx(conv, bob, { isDuplicate: (id) => seen.has(id.join()) })),
    );
  });

  it('accepts exactly one of two concurrent decryptions of the same message', async () => {
    const { conv, alice, bob } = await setup();
    const { wire } = await encryptMessage({
      state: conv.states.get(alice)!,
      sender: alice.keys,
      content: text('race'),
    });
    const results = await Promise.allSettled([
      decryptMessage(wire, ctx(conv, bob)),
      decryptMessage(wire, ctx(conv, bob)),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(AuthenticationError);
  });

  it('decrypts a burst of one sender concurrently, in any order, each exactly once', async () => {
    const { conv, alice, bob } = await setup();
    const wires: Uint8Array[] = [];
    for (let i = 0; i < 40; i++)
      wires.push(
        (
          await encryptMessage({
            state: conv.states.get(alice)!,
            sender: alice.keys,
            content: text(`b${i}`),
          })
        ).wire,
      );
    // A fixed shuffle (reversed pairs) so commits land out of order.
    const order = wires.map((_, i) => i).sort((a, b) => ((a * 7919) % 41) - ((b * 7919) % 41));
    const results = await Promise.all(order.map((i) => decryptMessage(wires[i]!, ctx(conv, bob))));
    expect(results.map((r) => r.header.chainIndex).sort((a, b) => a - b)).toEqual(
      wires.map((_, i) => i),
    );
    for (const [k, r] of results.entries()) expect(r.content).toEqual(text(`b${order[k]}`));
    const replays = await Promise.allSettled(wires.map((w) => decryptMessage(w, ctx(conv, bob))));
    expect(
      replays.every((r) => r.status === 'rejected' && r.reason instanceof AuthenticationError),
    ).toBe(true);
    const state = conv.states.get(bob)!.serialize();
    expect(state.skipped).toHaveLength(0);
    expect(state.receive[0]!.nextIndex).toBe(40);
  });

  it('reports gaps, accepts late arrivals once, and keeps the chain intact after forgeries', async () => {
    const { conv, alice, bob } = await setup();
    const sent = [];
    for (let i = 0; i < 5; i++)
      sent.push(
        (
          await encryptMessage({
            state: conv.states.get(alice)!,
            sender: alice.keys,
            content: text(`m${i}`),
          })
        ).wire,
      );
    expect((await decryptMessage(sent[0]!, ctx(conv, bob))).gap).toBeNull();
    // A forged message at index 3 must not advance the chain or consume index 3.
    await expectAuthFailure(
      decryptMessage(flipBit(sent[3]!, (MESSAGE_HEADER_LENGTH + 5) * 8), ctx(conv, bob)),
    );
    const third = await decryptMessage(sent[3]!, ctx(conv, bob));
    expect(third.gap).toEqual({ from: 1, to: 3 });
    expect(third.late).toBe(false);
    const late = await decryptMessage(sent[1]!, ctx(conv, bob));
    expect(late.late).toBe(true);
    expect(late.content).toEqual(text('m1'));
    await expectAuthFailure(decryptMessage(sent[1]!, ctx(conv, bob)));
    expect((await decryptMessage(sent[2]!, ctx(conv, bob))).late).toBe(true);
    expect((await decryptMessage(sent[4]!, ctx(conv, bob))).gap).toBeNull();
  });

  it('bounds the skipped-key cache at 1000 and refuses jumps beyond 10,000', async () => {
    const { conv, alice, bob } = await setup();
    const state = conv.states.get(alice)!;
    const secret = state.exportEpochSecret();
    const at = (chainIndex: number) =>
      craftMessage(
        alice,
        secret,
        {
          convId: conv.convId,
          epoch: 0,
          rosterHash: state.rosterHash,
          senderUser: alice.keys.userId,
          senderDevice: alice.keys.deviceId,
          chainIndex,
          clientMsgId: randomBytes(16),
          sentAtMs: 1,
          contentType: 'text',
        },
        text(`#${chainIndex}`),
      );
    const receiver = conv.states.get(bob)!;
    expect((await decryptMessage(await at(1500), ctx(conv, bob))).gap).toEqual({
      from: 0,
      to: 1500,
    });
    expect(receiver.serialize().skipped).toHaveLength(1000);
    await expectAuthFailure(decryptMessage(await at(100), ctx(conv, bob))); // evicted
    expect((await decryptMessage(await at(600), ctx(conv, bob))).late).toBe(true); // kept
    // The chain's next index is 1501: 10,000 ahead is the limit, 10,001 ahead is refused.
    const atLimit = await at(1501 + 10_000);
    const beyond = await at(1501 + 10_001);
    await expectAuthFailure(decryptMessage(beyond, ctx(conv, bob)));
    expect(receiver.serialize().receive[0]!.nextIndex).toBe(1501);
    expect((await decryptMessage(atLimit, ctx(conv, bob))).gap).toEqual({ from: 1501, to: 11_501 });
    expect(receiver.serialize().skipped).toHaveLength(1000);
  });

  it('survives serialize/restore (structured-clone data), still refusing replays', async () => {
    const { conv, alice, bob } = await setup();
    const w1 = (
      await encryptMessage({
        state: conv.states.get(alice)!,
        sender: alice.keys,
        content: text('1'),
      })
    ).wire;
    const w2 = (
      await encryptMessage({
        state: conv.states.get(alice)!,
        sender: alice.keys,
        content: text('2'),
      })
    ).wire;
    await decryptMessage(w2, ctx(conv, bob));
    const data = structuredClone(conv.states.get(bob)!.serialize());
    const restored = await EpochState.restore(data);
    const c = { convId: conv.convId, epochs: restored, directory: conv.directory };
    await expectAuthFailure(decryptMessage(w2, c));
    expect((await decryptMessage(w1, c)).late).toBe(true);
    // The sender's restored state continues its chain without reusing an index.
    const sender = await EpochState.restore(conv.states.get(alice)!.serialize());
    const { header } = await encryptMessage({
      state: sender,
      sender: alice.keys,
      content: text('3'),
    });
    expect(header.chainIndex).toBe(2);
    await expect(EpochState.restore({ ...data, epoch: -1 })).rejects.toThrow(
      'epoch must be an integer',
    );
  });

  it('supports ephemeral epochs, which cannot export their secret', async () => {
    const alice = await makeUser();
    const bob = await makeUser(2);
    const conv = await commitConversation([alice, bob], alice.devices[0]!, { flags: 1 });
    const a = alice.devices[0]!;
    expect(() => conv.states.get(a)!.exportEpochSecret()).toThrow('ephemeral');
    expect(conv.states.get(a)!.serialize().epochSecret).toBeNull();
    const { wire } = await encryptMessage({
      state: conv.states.get(a)!,
      sender: a.keys,
      content: text('fs'),
    });
    for (const d of bob.devices)
      expect((await decryptMessage(wire, ctx(conv, d))).content).toEqual(text('fs'));
  });

  it('refuses to encrypt for a device that does not own the state', async () => {
    const { conv, alice, bob } = await setup();
    await expect(
      encryptMessage({ state: conv.states.get(alice)!, sender: bob.keys, content: text('x') }),
    ).rejects.toThrow('owns the epoch state');
  });

  it('rejects a message moved by an insider who knows the epoch keys', async () => {
    const { users, conv, alice, bob } = await setup([1, 1, 1]);
    const carol = users[2]!.devices[0]!;
    const state = conv.states.get(alice)!;
    const header: MessageHeader = {
      convId: conv.convId,
      epoch: 0,
      rosterHash: state.rosterHash,
      senderUser: alice.keys.userId,
      senderDevice: alice.keys.deviceId,
      chainIndex: 0,
      clientMsgId: randomBytes(16),
      sentAtMs: 5,
      contentType: 'text',
    };
    // Alice really signed `header`; the insider re-encrypts her signed content under index 7
    // (valid AEAD, since members can derive Alice's chain) and delivers it to Bob.
    const moved = await craftMessage(
      alice,
      state.exportEpochSecret(),
      { ...header, chainIndex: 7 },
      text('hi'),
      { signHeader: header },
    );
    await expectAuthFailure(decryptMessage(moved, ctx(conv, bob)));
    const honest = await craftMessage(alice, state.exportEpochSecret(), header, text('hi'));
    expect((await decryptMessage(honest, ctx(conv, carol))).content).toEqual(text('hi'));
  });
});
