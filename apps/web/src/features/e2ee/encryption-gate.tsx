import { useState, type FormEvent, type ReactNode } from 'react';
import { RecoveryKeyError } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { FormField } from '../../components/form-field.tsx';
import { AlertIcon, KeyIcon, LockIcon } from '../../components/icons.tsx';
import { PageHeading } from '../../components/page-heading.tsx';
import { ErrorAlert, LoadingState } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useE2ee } from './e2ee-context.ts';
import { RecoveryKeyCard } from './recovery-key-card.tsx';

/** "recovery key checksum does not match: …" → "Recovery key checksum does not match: …." */
function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function SetupCard() {
  const { client, setPendingRecoveryKey, markReady } = useE2ee();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function setUp() {
    if (!client || pending) return;
    setPending(true);
    setError(null);
    try {
      const { recoveryKey } = await client.devices.setup();
      setPendingRecoveryKey(recoveryKey);
      markReady();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  }

  return (
    <section className="card setup-card" aria-labelledby="setup-heading">
      <div className="setup-icon">
        <LockIcon width={28} height={28} />
      </div>
      <PageHeading title="Set up end-to-end encryption" />
      <p className="card-description">
        Your messages are encrypted on this browser before they are sent, and only the people in the
        conversation can decrypt them: the server stores ciphertext it cannot read.
      </p>
      <ul className="setup-points">
        <li>This browser creates your encryption keys and keeps them in its own storage.</li>
        <li>You get a recovery key to write down: it unlocks your messages on other devices.</li>
        <li>Messages sent to you before this setup cannot be decrypted here.</li>
      </ul>
      {error && <ErrorAlert onRetry={() => void setUp()}>{error}</ErrorAlert>}
      {pending ? (
        <div className="setup-progress">
          <div
            className="progress"
            role="progressbar"
            aria-label="Setting up encryption"
            aria-valuetext="Creating keys and registering this browser"
          >
            <span className="progress-bar" />
          </div>
          <p className="setup-progress-text">Creating your keys and registering this browser…</p>
        </div>
      ) : (
        <div className="form-actions">
          <button type="button" className="btn btn-primary" onClick={() => void setUp()}>
            Set up encryption
          </button>
        </div>
      )}
    </section>
  );
}

function ResetIdentityDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { client, setPendingRecoveryKey, markReady } = useE2ee();
  const [understood, setUnderstood] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function reset(event: FormEvent) {
    event.preventDefault();
    if (!client || pending || !understood) return;
    setPending(true);
    setError(null);
    try {
      const { recoveryKey } = await client.devices.resetIdentity();
      setPendingRecoveryKey(recoveryKey);
      markReady();
      onClose();
    } catch (failure) {
      setError(errorMessage(failure));
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
      title="Reset encryption identity?"
      description="Only do this if you have lost your recovery key and have no other signed-in device."
    >
      <form className="form" onSubmit={(event) => void reset(event)}>
        <div className="warning-box">
          <AlertIcon className="alert-icon" />
          <ul className="warning-list">
            <li>
              Messages you received before now become unreadable on every browser that has not
              already decrypted them. They cannot be recovered.
            </li>
            <li>
              Your other browsers and devices are signed out of encryption and must be set up again
              with the new recovery key.
            </li>
            <li>
              Everyone you talk to sees that your safety number changed; contacts who verified you
              must check and accept the new one before they can message you.
            </li>
          </ul>
        </div>
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <div className="checkbox-field">
          <input
            id="reset-understood"
            type="checkbox"
            checked={understood}
            onChange={(event) => setUnderstood(event.target.checked)}
          />
          <label htmlFor="reset-understood">
            I understand that my earlier messages will be lost
          </label>
        </div>
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={onClose} disabled={pending}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-danger-solid"
            disabled={!understood}
            aria-disabled={pending || undefined}
          >
            {pending && <span className="spinner spinner-small" aria-hidden="true" />}
            Reset encryption identity
          </button>
        </div>
        <span role="status" className="sr-only">
          {pending ? 'Resetting your encryption identity…' : ''}
        </span>
      </form>
    </Dialog>
  );
}

function RecoverCard({ revoked }: { revoked: boolean }) {
  const { client, markReady } = useE2ee();
  const [recoveryKey, setRecoveryKey] = useState('');
  const [pending, setPending] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [resetOpen, setResetOpen] = useState(false);
  const [joining, setJoining] = useState(false);

  async function recover(event: FormEvent) {
    event.preventDefault();
    if (!client || pending) return;
    if (!recoveryKey.trim()) {
      setFieldError('Enter your recovery key.');
      return;
    }
    setPending(true);
    setFieldError(null);
    setError(null);
    try {
      await client.devices.recover(recoveryKey);
      setJoining(true);
      // New keys for every conversation, so the others' next messages reach this browser too.
      // A failure here is not fatal: this browser is set up, and each conversation rotates with
      // its next message from here instead.
      await client.conversations.rotateAll().catch(() => undefined);
      markReady();
    } catch (failure) {
      if (failure instanceof RecoveryKeyError) setFieldError(sentence(failure.message));
      else setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  }

  return (
    <section className="card setup-card" aria-labelledby="recover-heading">
      <div className="setup-icon">
        <KeyIcon width={28} height={28} />
      </div>
      <PageHeading title="Unlock your messages on this browser" />
      <p className="card-description">
        {revoked
          ? 'The encryption keys this browser held are no longer valid: your encryption identity was reset, or this browser was removed. Enter your current recovery key to set it up again.'
          : 'Your account already uses end-to-end encryption. Enter the recovery key you saved when you set it up, and this browser joins your devices.'}
      </p>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <form className="form" noValidate onSubmit={(event) => void recover(event)}>
        <FormField
          label="Recovery key"
          name="recoveryKey"
          autoComplete="off"
          autoCapitalize="characters"
          autoCorrect="off"
          spellCheck={false}
          className="field-monospace"
          placeholder="XXXX XXXX XXXX …"
          value={recoveryKey}
          errors={fieldError ? [fieldError] : undefined}
          hint={<p>56 letters and digits, in groups of four. Spaces and case do not matter.</p>}
          onChange={(event) => {
            setRecoveryKey(event.target.value);
            setFieldError(null);
          }}
        />
        <SubmitButton
          pending={pending}
          pendingLabel={
            joining ? 'Sharing new keys with your conversations…' : 'Checking the recovery key…'
          }
        >
          Unlock messages
        </SubmitButton>
        {joining && (
          <p className="setup-progress-text">Sharing new keys with your conversations…</p>
        )}
      </form>
      <div className="setup-footer">
        <h2 className="setup-footer-title">Lost your recovery key?</h2>
        <p className="card-description">
          This browser cannot join your devices without it (linking from another device is not
          available yet). Browsers where you are already set up keep working. As a last resort you
          can start over with a new encryption identity.
        </p>
        <button type="button" className="btn btn-danger" onClick={() => setResetOpen(true)}>
          Reset encryption identity…
        </button>
      </div>
      <ResetIdentityDialog open={resetOpen} onClose={() => setResetOpen(false)} />
    </section>
  );
}

/**
 * Shows its children (the chats) only once this browser's device is ready for end-to-end
 * encryption; before that, the step it needs: setup, recovery, or saving a new recovery key.
 */
export function EncryptionGate({ children }: { children: ReactNode }) {
  const e2ee = useE2ee();
  const { unsupported, lock, status, pendingRecoveryKey } = e2ee;

  let content: ReactNode;
  if (unsupported) {
    content = (
      <section className="card setup-card">
        <PageHeading title="Encryption is not available here" />
        <ErrorAlert>{unsupported}</ErrorAlert>
      </section>
    );
  } else if (lock === 'elsewhere') {
    content = (
      <section className="card setup-card">
        <PageHeading title="SecureChat is open in another tab" />
        <p className="card-description">
          Only one tab at a time can hold this browser’s encryption keys. Use the other tab, or move
          SecureChat here (the other tab pauses).
        </p>
        <div className="form-actions">
          <button type="button" className="btn btn-primary" onClick={e2ee.takeOverTab}>
            Use SecureChat in this tab
          </button>
        </div>
      </section>
    );
  } else if (pendingRecoveryKey) {
    return (
      <RecoveryKeyCard
        recoveryKey={pendingRecoveryKey}
        username={e2ee.user.username}
        onDone={() => e2ee.setPendingRecoveryKey(null)}
      />
    );
  } else if (status === 'ready') {
    return <>{children}</>;
  } else if (status === 'error') {
    content = (
      <section className="card setup-card">
        <PageHeading title="Chats" />
        <ErrorAlert onRetry={e2ee.recheckStatus}>
          Could not check this browser’s encryption keys. {errorMessage(e2ee.statusError)}
        </ErrorAlert>
      </section>
    );
  } else if (status === 'needs-setup') {
    content = <SetupCard />;
  } else if (status === 'needs-recovery' || status === 'revoked') {
    content = <RecoverCard revoked={status === 'revoked'} />;
  } else {
    content = <LoadingState label="Loading your encryption keys" />;
  }
  return <div className="setup">{content}</div>;
}
