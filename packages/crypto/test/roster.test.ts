/**
 * Rosters and commits (§3.5): membership changes only by a member's (or admin's) device listed in
 * a USK-signed device list; the epoch secret reaches every member device; a roster not signed by
 * a member, a forged or replayed commit, or a roster out of sequence is rejected.
 */
import { describe, expect, it } from 'vitest';
import {
  buildCommit,
  buildRoster,
  decodeSignedRoster,
  encodeSignedRoster,
  openCommit,
  rosterHash,
  signRoster,
  verifyRoster,
} from '../src/index.ts';
import {
  commitConversation,
  directoryOf,
  expectAuthFailure,
  flipBit,
  makeUser,
} from './helpers.ts';

describe('rosters', () => {
  it('give every member device the same epoch keys', async () => {
    const alice = await makeUser(2);
    const bob = await makeUser(1);
    const conv = await commitConversation([alice, bob], alice.devices[0]!);
    expect(conv.states.size).toBe(3);
    const hashes = [...conv.states.values()].map((s) => s.rosterHash);
    for (const h of hashes) expect(h).toEqual(await rosterHash(conv.roster));
    const secrets = [...conv.states.values()].map((s) => s.exportEpochSecret());
    for (const s of secrets) expect(s).toEqual(secrets[0]);
    expect(decodeSignedRoster(encodeSignedRoster(conv.roster))).toEqual(conv.roster);
  });

  it('rejects a roster not signed by a member', async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const mallory = await makeUser();
    const directory = await directoryOf([alice, bob, mallory]);
    // Mallory's device builds a roster of Alice and Bob: she is not a member.
    const roster = await buildRoster({
      convId: new Uint8Array(16).fill(1),
      members: [alice, bob].map((u) => ({ userId: u.userId, uskPublicKey: u.usk.publicKey })),
      by: mallory.devices[0]!.keys,
    });
    const signed = await signRoster(mallory.devices[0]!.keys, roster);
    await expectAuthFailure(verifyRoster(signed, { directory }));
  });

  it('rejects a roster signed by a device that is not in the changer’s device list', async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const directory = await directoryOf([alice, bob]);
    // A ghost device claims to be Alice's; its key is not in Alice's USK-signed list.
    const ghost = await makeUser();
    const ghostKeys = { ...ghost.devices[0]!.keys, userId: alice.userId };
    const roster = await buildRoster({
      convId: new Uint8Array(16).fill(2),
      members: [alice, bob].map((u) => ({ userId: u.userId, uskPublicKey: u.usk.publicKey })),
      by: ghostKeys,
    });
    await expectAuthFailure(verifyRoster(await signRoster(ghostKeys, roster), { directory }));
  });

  it('requires an admin to add or remove others, but lets a member leave', async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const carol = await makeUser();
    const conv = await commitConversation([alice, bob], alice.devices[0]!, {
      admins: [alice.userId],
    });
    const directory = await directoryOf([alice, bob, carol]);
    const members = (users: (typeof alice)[]) =>
      users.map((u) => ({ userId: u.userId, uskPublicKey: u.usk.publicKey }));
    // Bob (not an admin) adds Carol: refused.
    const byBob = await buildRoster({
      convId: conv.convId,
      previous: conv.roster,
      members: members([alice, bob, carol]),
      admins: [alice.userId],
      by: bob.devices[0]!.keys,
    });
    await expectAuthFailure(
      verifyRoster(await signRoster(bob.devices[0]!.keys, byBob), {
        directory,
        previous: conv.roster,
      }),
    );
    // Bob leaves: allowed.
    const leave = await buildRoster({
      convId: conv.convId,
      previous: conv.roster,
      members: members([alice]),
      admins: [alice.userId],
      by: bob.devices[0]!.keys,
    });
    await verifyRoster(await signRoster(bob.devices[0]!.keys, leave), {
      directory,
      previous: conv.roster,
    });
    // Alice (admin) adds Carol: allowed.
    const byAlice = await buildRoster({
      convId: conv.convId,
      previous: conv.roster,
      members: members([alice, bob, carol]),
      admins: [alice.userId],
      by: alice.devices[0]!.keys,
    });
    const signed = await signRoster(alice.devices[0]!.keys, byAlice);
    await verifyRoster(signed, { directory, previous: conv.roster });
    expect(signed.epoch).toBe(1);
  });

  it('rejects out-of-sequence rosters, bad fingerprints and flipped bits', async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const conv = await commitConversation([alice, bob], alice.devices[0]!);
    const directory = conv.directory;
    const next = await signRoster(
      alice.devices[0]!.keys,
      await buildRoster({
        convId: conv.convId,
        previous: conv.roster,
        members: [alice, bob].map((u) => ({ userId: u.userId, uskPublicKey: u.usk.publicKey })),
        by: alice.devices[0]!.keys,
      }),
    );
    await verifyRoster(next, { directory, previous: conv.roster });
    // Without its predecessor, a non-zero epoch is refused; and epoch 1 cannot follow itself.
    await expectAuthFailure(verifyRoster(next, { directory }));
    await expectAuthFailure(verifyRoster(next, { directory, previous: next }));
    // A member whose USK changed since the directory pinned it.
    const reset = await makeUser();
    const stale = await signRoster(
      alice.devices[0]!.keys,
      await buildRoster({
        convId: conv.convId,
        previous: conv.roster,
        members: [
          { userId: alice.userId, uskPublicKey: alice.usk.publicKey },
          { userId: bob.userId, uskPublicKey: reset.usk.publicKey },
        ],
        by: alice.devices[0]!.keys,
      }),
    );
    await expectAuthFailure(verifyRoster(stale, { directory, previous: conv.roster }));
    const bytes = encodeSignedRoster(next);
    for (let bit = 0; bit < bytes.length * 8; bit += 29) {
      let tampered;
      try {
        tampered = decodeSignedRoster(flipBit(bytes, bit));
      } catch {
        continue; // no longer parses: rejected before verification
      }
      await expectAuthFailure(verifyRoster(tampered, { directory, previous: conv.roster }));
    }
  });

  it('rejects a commit envelope that does not match its roster', async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const directory = await directoryOf([alice, bob]);
    const members = [alice, bob].map((u) => ({ userId: u.userId, uskPublicKey: u.usk.publicKey }));
    const b = bob.devices[0]!;
    const recipients = [
      {
        userId: b.keys.userId,
        deviceId: b.keys.deviceId,
        signingPublicKey: b.keys.signing.publicKey,
        prekey: b.spk,
      },
    ];
    const c1 = await buildCommit({
      sender: alice.devices[0]!.keys,
      roster: await buildRoster({
        convId: new Uint8Array(16).fill(3),
        members,
        by: alice.devices[0]!.keys,
      }),
      recipients,
    });
    const c2 = await buildCommit({
      sender: alice.devices[0]!.keys,
      roster: await buildRoster({
        convId: new Uint8Array(16).fill(4),
        members,
        by: alice.devices[0]!.keys,
      }),
      recipients,
    });
    // Envelope of one conversation presented with the roster of another.
    await expectAuthFailure(
      openCommit({
        device: b.keys,
        prekey: b.spk,
        envelope: c1.envelopes[0]!.envelope,
        roster: c2.roster,
        directory,
      }),
    );
    const ok = await openCommit({
      device: b.keys,
      prekey: b.spk,
      envelope: c1.envelopes[0]!.envelope,
      roster: c1.roster,
      directory,
    });
    expect(ok.state.exportEpochSecret()).toEqual(c1.state.exportEpochSecret());
  });
});
