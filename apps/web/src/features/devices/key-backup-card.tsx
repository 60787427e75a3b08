import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  MIN_PASSPHRASE_BITS,
  RecoveryKeyError,
  WeakPassphraseError,
  checkPassphraseStrength,
  type PassphraseStrength,
} from '@securechat/client';
import { Card } from '../../components/card.tsx';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import { Dialog } from '../../components/dialog.tsx';
import { CodeField, FormField } from '../../components/form-field.tsx';
import { AlertIcon, CheckIcon } from '../../components/icons.tsx';
import { ErrorAlert, LoadingState } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { usePendingAction } from '../../lib/use-pending-action.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';

const SCORE_WORDS = ['Very weak', 'Weak', 'Fair', 'Good', 'Strong'] as const;

// The estimator reports why a passphrase is weak as keys; these are the words shown for them.
const WARNINGS: Record<string, string> = {
  tooShort: 'It is shorter than 12 characters.',
  straightRow: 'Rows of keys are easy to guess.',
  keyPattern: 'Keyboard patterns are easy to guess.',
  simpleRepeat: 'Repeated characters are easy to guess.',
  extendedRepeat: 'Repeated groups of characters are easy to guess.',
  sequences: 'Sequences like “abc” or “6543” are easy to guess.',
  recentYears: 'Recent years are easy to guess.',
  dates: 'Dates are easy to guess.',
  topTen: 'This is one of the most used passwords.',
  topHundred: 'This is a very common password.',
  common: 'This is a common password.',
  similarToCommon: 'This is close to a common password.',
  wordByItself: 'A single word is easy to guess.',
  namesByThemselves: 'Names on their own are easy to guess.',
  commonNames: 'Common names are easy to guess.',
  userInputs: 'It contains your username or the app’s name.',
  pwned: 'This passphrase appeared in a data breach.',
};

/**
 * The strength of `passphrase` by the client's own rule (the one `setPassphrase` enforces), or
 * null while it is empty or the estimator's dictionaries are loading.
 */
function usePassphraseStrength(passphrase: string, username: string): PassphraseStrength | null {
  const [result, setResult] = useState<{ for: string; strength: PassphraseStrength } | null>(null);
  useEffect(() => {
    if (!passphrase) return;
    let active = true;
    void checkPassphraseStrength(passphrase, [username]).then((strength) => {
      if (active) setResult({ for: passphrase, strength });
    });
    return () => {
      active = false;
    };
  }, [passphrase, username]);
  return passphrase && result?.for === passphrase ? result.strength : null;
}

/** A five-step bar plus the words and numbers behind it; the state is in text, not only colour. */
export function StrengthMeter({
  passphrase,
  strength,
}: {
  passphrase: string;
  strength: PassphraseStrength | null;
}) {
  if (!passphrase) {
    return (
      <div className="strength">
        <p className="strength-text">
          Use at least five random words (about {MIN_PASSPHRASE_BITS} bits), e.g. from a passphrase
          generator or dice.
        </p>
      </div>
    );
  }
  const score = strength?.score ?? 0;
  return (
    <div className="strength">
      <div className={`strength-bar strength-${strength ? score : 'pending'}`} aria-hidden="true">
        {[0, 1, 2, 3, 4].map((step) => (
          <span key={step} className={step <= score && strength ? 'strength-step-on' : ''} />
        ))}
      </div>
      <p className="strength-text" aria-live="polite">
        {strength ? (
          <>
            <strong>{strength.ok ? 'Strong enough' : SCORE_WORDS[score]}</strong>: about{' '}
            {strength.bits} bits, {MIN_PASSPHRASE_BITS} needed.
            {!strength.ok && (
              <>
                {' '}
                {(strength.warning && WARNINGS[strength.warning]) ?? ''} Add more unrelated words.
              </>
            )}
          </>
        ) : (
          'Checking strength…'
        )}
      </p>
    </div>
  );
}

function PassphraseDialog({
  open,
  replacing,
  onClose,
}: {
  open: boolean;
  replacing: boolean;
  onClose: (done?: string) => void;
}) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [recoveryKey, setRecoveryKey] = useState('');
  const [needsRecoveryKey, setNeedsRecoveryKey] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const strength = usePassphraseStrength(passphrase, user.username);

  useEffect(() => {
    if (Object.keys(fields).length > 0) {
      form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
    }
  }, [fields]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const next: Record<string, string> = {};
    if (!passphrase) next.passphrase = 'Enter a passphrase.';
    else if (strength && !strength.ok) {
      next.passphrase = `Too easy to guess: about ${strength.bits} bits, ${MIN_PASSPHRASE_BITS} needed. Add more random words.`;
    }
    if (passphrase && repeat !== passphrase) next.repeat = 'The two passphrases differ.';
    if (needsRecoveryKey && !recoveryKey.trim()) next.recoveryKey = 'Enter your recovery key.';
    setFields(next);
    setError(null);
    if (Object.keys(next).length > 0) return;
    setPending(true);
    try {
      await client.devices.setPassphrase(
        passphrase,
        needsRecoveryKey ? { recoveryKey } : undefined,
      );
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.backup(user.id) });
      onClose(replacing ? 'Backup passphrase changed.' : 'Backup passphrase set.');
    } catch (failure) {
      if (failure instanceof WeakPassphraseError) {
        setFields({
          passphrase: `Too easy to guess: about ${failure.strength.bits} bits, ${MIN_PASSPHRASE_BITS} needed.`,
        });
      } else if (failure instanceof RecoveryKeyError) {
        // This device was linked rather than set up with the recovery key, so it holds no copy
        // of the key the passphrase must wrap: the recovery key unlocks it once.
        if (needsRecoveryKey) setFields({ recoveryKey: failure.message });
        else setNeedsRecoveryKey(true);
      } else {
        setError(errorMessage(failure));
      }
    } finally {
      setPending(false);
    }
  }

  return (
    <Dialog
      open={open}
      onClose={() => {
        if (!pending) onClose();
      }}
      title={replacing ? 'Change backup passphrase' : 'Set a backup passphrase'}
      description="A passphrase you can remember, to unlock your keys and history on a new device instead of the recovery key. It is separate from your sign-in password, which the server sees."
    >
      <form ref={form} className="form" noValidate onSubmit={(event) => void submit(event)}>
        <p className="settings-note">
          If the server’s data ever leaks, whoever holds it can try to guess this passphrase
          offline, as fast as their computers allow: nothing limits the attempts. Make it long and
          random. The recovery key stays the safer default and keeps working.
        </p>
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <FormField
          label="New passphrase"
          name="passphrase"
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          value={passphrase}
          errors={fields.passphrase ? [fields.passphrase] : undefined}
          hint={<StrengthMeter passphrase={passphrase} strength={strength} />}
          onChange={(event) => {
            setPassphrase(event.target.value);
            setFields(({ passphrase: _cleared, ...rest }) => rest);
          }}
        />
        <FormField
          label="Repeat passphrase"
          name="repeat"
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          value={repeat}
          errors={fields.repeat ? [fields.repeat] : undefined}
          onChange={(event) => {
            setRepeat(event.target.value);
            setFields(({ repeat: _cleared, ...rest }) => rest);
          }}
        />
        {needsRecoveryKey && (
          <CodeField
            label="Recovery key"
            name="recoveryKey"
            value={recoveryKey}
            errors={fields.recoveryKey ? [fields.recoveryKey] : undefined}
            hint={
              <p>
                This device was linked, so it needs your recovery key once to set the passphrase.
              </p>
            }
            onChange={(event) => {
              setRecoveryKey(event.target.value);
              setFields(({ recoveryKey: _cleared, ...rest }) => rest);
            }}
          />
        )}
        <div className="dialog-actions">
          <button
            type="button"
            className="btn btn-secondary"
            disabled={pending}
            onClick={() => onClose()}
          >
            Cancel
          </button>
          <SubmitButton pending={pending} pendingLabel="Protecting your keys with the passphrase…">
            {replacing ? 'Change passphrase' : 'Set passphrase'}
          </SubmitButton>
        </div>
      </form>
    </Dialog>
  );
}

function RemovePassphraseDialog({
  open,
  onClose,
}: {
  open: boolean;
  onClose: (done?: string) => void;
}) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const { pending, error, run } = usePendingAction();

  async function remove() {
    await run(async () => {
      await client.devices.removePassphrase();
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.backup(user.id) });
      onClose('Backup passphrase removed. Only the recovery key unlocks your backup now.');
    });
  }

  return (
    <ConfirmDialog
      open={open}
      onClose={() => onClose()}
      title="Remove backup passphrase?"
      description="After this, only your recovery key (or linking from another device) sets up a new device."
      confirmLabel="Remove passphrase"
      pending={pending}
      error={error}
      onConfirm={() => void remove()}
    />
  );
}

/**
 * Key backup: each conversation key is backed up, sealed to the account's backup key, as it is
 * made; the recovery key (or an optional passphrase) opens the backup on a new device.
 */
export function KeyBackupCard() {
  const { client, user } = useReadyE2ee();
  const hasPassphrase = useQuery({
    queryKey: e2eeKeys.backup(user.id),
    queryFn: () => client.devices.hasPassphrase(),
  });
  const backingUp = useQuery({
    queryKey: [...e2eeKeys.backup(user.id), 'this-device'],
    queryFn: () => client.devices.isBackingUp(),
  });
  const [dialog, setDialog] = useState<'set' | 'remove' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const close = (done?: string) => {
    setDialog(null);
    if (done) setNotice(done);
  };

  return (
    <Card
      title="Key backup"
      description="So that a new device can read your earlier messages, each conversation key is backed up on the server as it is made, encrypted so that only your recovery key, or your backup passphrase if you set one, can open it."
    >
      {backingUp.isPending ? (
        <LoadingState label="Checking the backup…" />
      ) : backingUp.error ? (
        <ErrorAlert onRetry={() => void backingUp.refetch()}>
          Could not check the backup. {errorMessage(backingUp.error)}
        </ErrorAlert>
      ) : backingUp.data ? (
        <p className="backup-status">
          <CheckIcon width={18} height={18} />
          <span>
            <strong>Backup is on</strong>: this browser backs up each new conversation key.
          </span>
        </p>
      ) : (
        <p className="backup-status backup-status-off">
          <AlertIcon width={18} height={18} />
          <span>
            <strong>Backup is off</strong> in this browser: it does not hold the account’s current
            backup key, so the conversation keys it makes are not backed up, and the messages they
            protect cannot be read on a new device.
          </span>
        </p>
      )}
      <p className="settings-note">
        The trade-off: anyone who gets your recovery key (or guesses your passphrase) and the
        server’s data can read your backed-up history. Keep the recovery key somewhere safe.
      </p>
      <div className="card-header">
        <h3 className="card-subtitle">Backup passphrase</h3>
        {hasPassphrase.isPending ? (
          <LoadingState label="Checking for a passphrase…" />
        ) : hasPassphrase.error ? (
          <ErrorAlert onRetry={() => void hasPassphrase.refetch()}>
            Could not check the backup passphrase. {errorMessage(hasPassphrase.error)}
          </ErrorAlert>
        ) : (
          <p className="card-description">
            {hasPassphrase.data
              ? 'Set: a new device can be unlocked with the passphrase or the recovery key.'
              : 'Not set: a new device is unlocked by linking it, or with the recovery key (the safer default).'}
          </p>
        )}
      </div>
      {hasPassphrase.isSuccess && (
        <div className="form-actions">
          <button
            type="button"
            className="btn btn-secondary btn-block-phone"
            onClick={() => {
              setNotice(null);
              setDialog('set');
            }}
          >
            {hasPassphrase.data ? 'Change passphrase…' : 'Set a passphrase…'}
          </button>
          {hasPassphrase.data && (
            <button
              type="button"
              className="btn btn-danger btn-block-phone"
              onClick={() => {
                setNotice(null);
                setDialog('remove');
              }}
            >
              Remove passphrase…
            </button>
          )}
          <p role="status" className="form-success">
            {notice}
          </p>
        </div>
      )}
      {dialog === 'set' && (
        <PassphraseDialog open replacing={hasPassphrase.data === true} onClose={close} />
      )}
      <RemovePassphraseDialog open={dialog === 'remove'} onClose={close} />
    </Card>
  );
}
