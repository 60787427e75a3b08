import {
  approveLinkRequest,
  createLinkRequest,
  deleteLinkRequest,
  devicesOfUser,
  linkRequestOf,
  linkRequestOfSession,
  renameDevice,
} from '@securechat/db';
import { DomainError, conflict, invalidField, notFound } from '../../errors.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireDevice } from '../access.ts';
import { toBase64url } from '../wire.ts';
import {
  approveLinkInput,
  createLinkInput,
  linkHandleInput,
  renameDeviceInput,
} from './devices.schema.ts';

/** How long a link request waits for approval (§3.3 flow A): long enough to fetch the other device. */
export const LINK_TTL_MS = 10 * 60 * 1000;
/** Pending link requests one user may have at once; more is refused as TOO_MANY_REQUESTS. */
export const MAX_PENDING_LINKS = 5;

/**
 * The user's own devices, and linking a new one from an existing one (§3.3 flow A). The server
 * relays the link request and the provisioning envelope and can read neither: the request is
 * sealed under a secret that travels only by camera or keyboard, and the envelope is HPKE to a
 * key in that request.
 */
export const devicesRouter = router({
  /**
   * The caller's active devices, oldest first. Names come from the certificate unless renamed;
   * a new name is signed by the user, and clients show it only if it verifies.
   */
  list: authedProcedure.query(({ ctx }) =>
    devicesOfUser(ctx.deps.db, ctx.user.id).map((d) => ({
      id: d.id,
      signedName: d.signedName ? toBase64url(d.signedName) : null,
      cert: toBase64url(d.cert),
      createdAt: d.createdAt,
      lastSeenAt: d.lastSeenAt,
      current: d.id === ctx.session.deviceId,
    })),
  ),

  /** Renames one of the caller's active devices (the name is for the user's own list). */
  rename: authedProcedure.input(renameDeviceInput).mutation(({ ctx, input }) => {
    // The name must be signed as one of this user's: the user id inside must be the caller's.
    if (input.signedName.subarray(1, 17).toString('hex') !== ctx.user.id)
      throw invalidField('signedName', 'Signed name is for another user');
    if (!renameDevice(ctx.deps.db, ctx.user.id, input.deviceId, input.signedName)) {
      throw notFound('No such device');
    }
    return { ok: true as const };
  }),

  /**
   * On the new device (signed in, no keys yet): leaves a link request for 10 minutes. One per
   * session: a new one replaces the previous.
   */
  createLink: authedProcedure.input(createLinkInput).mutation(({ ctx, input }) => {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + LINK_TTL_MS);
    const result = createLinkRequest(
      ctx.deps.db,
      {
        handle: input.handle,
        userId: ctx.user.id,
        sessionId: ctx.session.id,
        request: input.request,
        expiresAt,
      },
      MAX_PENDING_LINKS,
      now,
    );
    if (result === 'too_many') {
      throw new DomainError(
        'rate_limited',
        `At most ${MAX_PENDING_LINKS} devices can wait to be linked at once; try again later`,
        undefined,
        60,
      );
    }
    if (result === 'taken') throw conflict('That link code is in use; start again');
    return { expiresAt };
  }),

  /**
   * On an existing device: the sealed request behind a code the user typed or scanned. Only the
   * same user's registered devices may look; a wrong, expired or used code is NOT_FOUND.
   */
  linkRequest: authedProcedure.input(linkHandleInput).query(({ ctx, input }) => {
    requireDevice(ctx);
    const row = linkRequestOf(ctx.deps.db, ctx.user.id, input.handle, new Date());
    if (!row || row.envelope) throw notFound('No device is waiting with this code');
    return { request: toBase64url(row.request), expiresAt: row.expiresAt };
  }),

  /** On the existing device, after adding the new device to the list: leaves the envelope. */
  approveLink: authedProcedure.input(approveLinkInput).mutation(({ ctx, input }) => {
    const deviceId = requireDevice(ctx);
    const result = approveLinkRequest(
      ctx.deps.db,
      {
        userId: ctx.user.id,
        handle: input.handle,
        envelope: input.envelope,
        approvedByDeviceId: deviceId,
      },
      new Date(),
    );
    if (result === 'not_found') throw notFound('No device is waiting with this code');
    if (result === 'already_approved') throw conflict('This device was already linked');
    return { ok: true as const };
  }),

  /** On the new device: whether its request was approved, with the envelope when it was. */
  linkStatus: authedProcedure.input(linkHandleInput).query(({ ctx, input }) => {
    const row = linkRequestOfSession(ctx.deps.db, ctx.session.id, input.handle);
    if (!row) throw notFound('No such link request');
    if (row.envelope) {
      return {
        status: 'approved' as const,
        envelope: toBase64url(row.envelope),
        expiresAt: row.expiresAt,
      };
    }
    if (row.expiresAt.getTime() <= Date.now()) {
      return { status: 'expired' as const, envelope: null, expiresAt: row.expiresAt };
    }
    return { status: 'pending' as const, envelope: null, expiresAt: row.expiresAt };
  }),

  /** On the new device: withdraws its request (cancelled, or done with the envelope). */
  cancelLink: authedProcedure.input(linkHandleInput).mutation(({ ctx, input }) => {
    if (!deleteLinkRequest(ctx.deps.db, ctx.session.id, input.handle)) {
      throw notFound('No such link request');
    }
    return { ok: true as const };
  }),
});
