import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { IdentityChangedError, NotSetUpError } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { AlertIcon, ShieldIcon } from '../../components/icons.tsx';
import { ErrorAlert, LoadingState } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useReadyE2ee } from './e2ee-context.ts';
import { e2eeKeys } from './query-keys.ts';

/** 60 digits as 12 groups of five, the way Signal shows them, so two people can read them out. */
export function digitGroups(safetyNumber: string): string[] {
  return safetyNumber.match(/\d{5}/g) ?? [safetyNumber];
}

/** A contact's verification state, with the safety numbers to show. */
export function useContactIdentity(contactId: string, enabled = true) {
  const { client, user } = useReadyE2ee();
  return useQuery({
    queryKey: e2eeKeys.contact(user.id, contactId),
    enabled,
    queryFn: async () => {
      const status = await client.contacts.status(contactId);
      const changedNumber = status.identityChanged
        ? await client.contacts.changedSafetyNumber(contactId)
        : null;
      let safetyNumber: string | null = null;
      let notSetUp = false;
      try {
        safetyNumber = await client.contacts.safetyNumber(contactId);
      } catch (error) {
        if (error instanceof NotSetUpError) notSetUp = true;
        // A verified contact whose identity changed: only the new number is shown.
        else if (!(error instanceof IdentityChangedError)) throw error;
      }
      // An unverified contact's change is accepted on first use, so ask again for the flag.
      const verified = (await client.contacts.status(contactId)).verified;
      return {
        verified,
        blocked: status.identityChanged && status.verified,
        changedNumber,
        safetyNumber,
        notSetUp,
      };
    },
    staleTime: 30_000,
  });
}

/** The safety number with a contact, to compare on both sides and mark as verified. */
export function SafetyNumberDialog({
  contactId,
  username,
  open,
  onClose,
}: {
  contactId: string;
  username: string;
  open: boolean;
  onClose: () => void;
}) {
  const { client, user, dismissIdentityAlert, outbox } = useReadyE2ee();
  const queryClient = useQueryClient();
  const identity = useContactIdentity(contactId, open);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function act(action: () => Promise<void>) {
    if (pending) return;
    setPending(true);
    setError(null);
    try {
      await action();
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.contact(user.id, contactId) });
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  }

  const data = identity.data;
  const number = data?.blocked ? data.changedNumber : data?.safetyNumber;
  return (
    <Dialog open={open} onClose={onClose} title={`Safety number with ${username}`} size="wide">
      {identity.isPending ? (
        <LoadingState label="Computing the safety number" />
      ) : identity.error ? (
        <ErrorAlert onRetry={() => void identity.refetch()}>
          Could not compute the safety number. {errorMessage(identity.error)}
        </ErrorAlert>
      ) : data?.notSetUp ? (
        <p className="card-description">
          {username} has not set up end-to-end encryption yet, so there is no safety number to
          compare. It appears once they sign in.
        </p>
      ) : (
        <div className="safety">
          {data?.blocked && (
            <div className="warning-box" role="alert">
              <AlertIcon className="alert-icon" />
              <div>
                <p>
                  <strong>{username}’s safety number has changed.</strong> You had verified them, so
                  sending to them is blocked until you look at the new number.
                </p>
                <p>
                  It changes when someone resets their encryption identity (for example after losing
                  their recovery key). It would also change if someone were trying to intercept your
                  messages. Compare the new number with {username} before accepting.
                </p>
              </div>
            </div>
          )}
          <div className="safety-number" role="group" aria-label={`Safety number with ${username}`}>
            {number &&
              digitGroups(number).map((group, index) => (
                <span key={index} className="safety-number-group">
                  {group}
                </span>
              ))}
          </div>
          <p className="card-description">
            Compare these 60 digits with what {username} sees, in person or over another channel you
            trust. If they match, your conversation is end-to-end encrypted with {username} and
            nobody in between. The number stays the same when either of you adds a device.
          </p>
          {error && <ErrorAlert>{error}</ErrorAlert>}
          <div className="dialog-actions">
            {data?.blocked ? (
              <button
                type="button"
                className="btn btn-primary"
                aria-disabled={pending || undefined}
                onClick={() =>
                  void act(async () => {
                    await client.contacts.acceptIdentityChange(contactId);
                    dismissIdentityAlert(contactId);
                    // What waited for this review goes out now.
                    outbox.resendNow();
                  })
                }
              >
                Accept new safety number
              </button>
            ) : data?.verified ? (
              <>
                <span className="badge badge-verified">
                  <ShieldIcon width={16} height={16} /> Verified
                </span>
                <button
                  type="button"
                  className="btn btn-secondary"
                  aria-disabled={pending || undefined}
                  onClick={() => void act(() => client.contacts.markVerified(contactId, false))}
                >
                  Remove verification
                </button>
              </>
            ) : (
              <button
                type="button"
                className="btn btn-primary"
                aria-disabled={pending || undefined}
                onClick={() => void act(() => client.contacts.markVerified(contactId, true))}
              >
                Mark as verified
              </button>
            )}
          </div>
        </div>
      )}
    </Dialog>
  );
}
