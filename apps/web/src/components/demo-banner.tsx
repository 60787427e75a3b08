import { trpc } from '../lib/trpc.ts';

/** Says plainly when the server runs in demo mode, where accounts have a published password. */
export function DemoBanner() {
  const info = trpc.server.info.useQuery(undefined, { staleTime: Infinity });
  if (!info.data?.demo) return null;
  return (
    <p className="demo-banner" role="note">
      Demo mode: the accounts user1, user2 and user3 share the password “password123”; their
      recovery keys (asked for when a browser unlocks messages) are in the server’s
      demo-recovery-keys.txt. Do not keep anything real here.
    </p>
  );
}
