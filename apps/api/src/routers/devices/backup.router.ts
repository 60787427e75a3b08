import {
  backupEntriesOf,
  backupKeyOf,
  membershipOf,
  putBackupEntries,
  setBackupKey,
} from '@securechat/db';
import { notFound } from '../../errors.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireDevice } from '../access.ts';
import { LIMITS, toBase64url } from '../wire.ts';
import { backupEntriesInput, putBackupEntriesInput, setBackupKeyInput } from './devices.schema.ts';

/**
 * The key backup (§3.9): epoch secrets sealed to the user's backup public key, stored per
 * conversation and epoch. The server cannot open an entry: the private key lives in secret
 * storage under the recovery key.
 */
export const backupRouter = router({
  /** The caller's backup public key, or null when backup was never set up. */
  key: authedProcedure.query(({ ctx }) => {
    const row = backupKeyOf(ctx.deps.db, ctx.user.id);
    return row ? { publicKey: toBase64url(row.publicKey) } : null;
  }),

  /** Publishes the backup public key; a new key starts an empty backup. */
  setKey: authedProcedure.input(setBackupKeyInput).mutation(({ ctx, input }) => {
    requireDevice(ctx);
    setBackupKey(ctx.deps.db, ctx.user.id, input.publicKey, new Date());
    return { ok: true as const };
  }),

  /**
   * Adds entries for conversations the caller is in (idempotent: an entry already stored for a
   * conversation and epoch is kept).
   */
  putEntries: authedProcedure.input(putBackupEntriesInput).mutation(({ ctx, input }) => {
    requireDevice(ctx);
    for (const id of new Set(input.entries.map((e) => e.conversationId))) {
      if (!membershipOf(ctx.deps.db, id, ctx.user.id)) throw notFound('No such conversation');
    }
    putBackupEntries(ctx.deps.db, ctx.user.id, input.entries, new Date());
    return { ok: true as const };
  }),

  /** A page of the caller's entries (any signed-in session: a recovering device has no keys yet). */
  entries: authedProcedure.input(backupEntriesInput).query(({ ctx, input }) => {
    const rows = backupEntriesOf(ctx.deps.db, ctx.user.id, input.after, LIMITS.backupEntriesPage);
    return {
      entries: rows.map((r) => ({
        conversationId: r.conversationId,
        epoch: r.epoch,
        entry: toBase64url(r.entry),
      })),
      next: rows.length === LIMITS.backupEntriesPage ? rows[rows.length - 1]!.id : null,
    };
  }),
});
