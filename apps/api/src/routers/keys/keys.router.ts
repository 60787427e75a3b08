import {
  addOneTimePrekeys,
  claimPrekeyBundles,
  countOneTimePrekeys,
  deviceById,
  deviceListChain,
  deviceListsOf,
  markConversationsForRotation,
  publishDeviceList,
  putSecret,
  revokeDevices,
  secretsOf,
  setSignedPrekey,
  upsertDevice,
  devicesOfUser,
  deleteSecret,
} from '@securechat/db';
import { DomainError, conflict, notFound } from '../../errors.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireDevice } from '../access.ts';
import { toBase64url } from '../wire.ts';
import {
  deviceListChainInput,
  publishDeviceListInput,
  putSecretsInput,
  secretNameInput,
  registerDeviceInput,
  uploadPrekeysInput,
  userIdsInput,
} from './keys.schema.ts';

/**
 * The key directory (§3.2). Every blob is signed by its owner and opaque here: the server checks
 * shapes and sizes, routes by user and device, and could not forge any of it.
 */
export const keysRouter = router({
  /** Publishes the caller's signed device list and the certificates of the devices it names. */
  publishDeviceList: authedProcedure.input(publishDeviceListInput).mutation(({ ctx, input }) => {
    const { db } = ctx.deps;
    const now = new Date();
    for (const device of input.devices) {
      const existing = deviceById(db, device.id);
      if (existing && existing.userId !== ctx.user.id) throw conflict('That device id is taken');
    }
    const result = publishDeviceList(
      db,
      {
        userId: ctx.user.id,
        version: input.version,
        signingKey: input.signingKey,
        list: input.list,
      },
      input.reset,
      now,
    );
    if (result === 'stale') {
      throw new DomainError('stale', 'A newer device list exists; fetch it and build on it');
    }
    if (result === 'key_changed') {
      throw conflict(
        'The signing key differs from the published one; only an identity reset may change it',
      );
    }
    for (const device of input.devices) upsertDevice(db, { ...device, userId: ctx.user.id }, now);
    const listed = new Set(input.devices.map((d) => d.id));
    const revoked = input.reset
      ? devicesOfUser(db, ctx.user.id)
          .filter((d) => !listed.has(d.id))
          .map((d) => d.id)
      : input.revokedDeviceIds;
    revokeDevices(db, ctx.user.id, revoked, now);
    // A device revoked from the list is signed out at once: its sessions end and its sockets
    // close. (After an identity reset the old devices stay signed in, to be told they were
    // revoked and offered recovery with the new key.)
    if (!input.reset && ctx.deps.sessions.revokeForDevices(ctx.user.id, revoked) > 0) {
      ctx.deps.bus.publish('sessions.changed', { userId: ctx.user.id });
    }
    // Changed devices change who must hold the keys (§3.7): rotate before anyone's next message.
    if (input.version > 1 || input.reset) markConversationsForRotation(db, ctx.user.id);
    return { version: input.version };
  }),

  /** Binds this session to one of the caller's listed devices and stores its prekeys. */
  registerDevice: authedProcedure.input(registerDeviceInput).mutation(({ ctx, input }) => {
    const { db, sessions } = ctx.deps;
    const device = deviceById(db, input.deviceId);
    if (!device || device.userId !== ctx.user.id) {
      throw notFound('Publish a device list naming this device first');
    }
    if (device.revokedAt) throw new DomainError('forbidden', 'This device was revoked');
    const now = new Date();
    setSignedPrekey(db, { deviceId: device.id, ...input.signedPrekey }, now);
    addOneTimePrekeys(db, device.id, input.oneTimePrekeys);
    sessions.bindDevice(ctx.session.id, device.id);
    return { deviceId: device.id };
  }),

  uploadPrekeys: authedProcedure.input(uploadPrekeysInput).mutation(({ ctx, input }) => {
    const deviceId = requireDevice(ctx);
    const now = new Date();
    if (input.signedPrekey) setSignedPrekey(ctx.deps.db, { deviceId, ...input.signedPrekey }, now);
    addOneTimePrekeys(ctx.deps.db, deviceId, input.oneTimePrekeys);
    return { oneTimePrekeys: countOneTimePrekeys(ctx.deps.db, deviceId) };
  }),

  /** How many one-time prekeys this device has left on the server. */
  prekeyCount: authedProcedure.query(({ ctx }) => {
    const deviceId = requireDevice(ctx);
    return { oneTimePrekeys: countOneTimePrekeys(ctx.deps.db, deviceId) };
  }),

  /**
   * Signed device lists. Public keys are a directory any signed-in user may read (as in Signal):
   * they are what lets someone start an encrypted conversation.
   */
  deviceLists: authedProcedure.input(userIdsInput).query(({ ctx, input }) =>
    deviceListsOf(ctx.deps.db, input.userIds).map((row) => ({
      userId: row.userId,
      version: row.version,
      signingKey: toBase64url(row.signingKey),
      list: toBase64url(row.list),
    })),
  ),

  /**
   * A user's device lists after `afterVersion`, oldest first, so a client that pinned an older
   * list can check every link of the hash chain up to the newest.
   */
  deviceListChain: authedProcedure.input(deviceListChainInput).query(({ ctx, input }) =>
    deviceListChain(ctx.deps.db, input.userId, input.afterVersion, 100).map((row) => ({
      version: row.version,
      list: toBase64url(row.list),
    })),
  ),

  /**
   * Prekey bundles for every active device of these users, claiming one one-time prekey each.
   * As in Signal, any signed-in user may fetch them (adding someone to a group needs their keys
   * before they are a member); the rate limit bounds draining, and a device whose one-time
   * prekeys run out falls back to its signed prekey, with shorter-lived forward secrecy.
   */
  claimPrekeys: authedProcedure.input(userIdsInput).mutation(({ ctx, input }) => {
    return claimPrekeyBundles(ctx.deps.db, [...new Set(input.userIds)]).map((b) => ({
      deviceId: b.deviceId,
      cert: toBase64url(b.cert),
      signedPrekey: b.signedPrekey
        ? { prekeyId: b.signedPrekey.prekeyId, bundle: toBase64url(b.signedPrekey.bundle) }
        : null,
      oneTimePrekey: b.oneTimePrekey
        ? { prekeyId: b.oneTimePrekey.prekeyId, bundle: toBase64url(b.oneTimePrekey.bundle) }
        : null,
    }));
  }),

  /** Stores secrets already encrypted under the caller's recovery key (§3.9). */
  putSecrets: authedProcedure.input(putSecretsInput).mutation(({ ctx, input }) => {
    const now = new Date();
    for (const secret of input.secrets)
      putSecret(ctx.deps.db, ctx.user.id, secret.name, secret.value, now);
    return { ok: true as const };
  }),

  /** Deletes one of the caller's stored secrets (e.g. the passphrase-wrapped recovery key). */
  deleteSecret: authedProcedure.input(secretNameInput).mutation(({ ctx, input }) => {
    if (!deleteSecret(ctx.deps.db, ctx.user.id, input.name)) throw notFound('No such secret');
    return { ok: true as const };
  }),

  /** The caller's own encrypted secrets; nobody else's are reachable. */
  secrets: authedProcedure.query(({ ctx }) =>
    secretsOf(ctx.deps.db, ctx.user.id).map((s) => ({ name: s.name, value: toBase64url(s.value) })),
  ),
});
