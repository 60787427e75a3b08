import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { PassphraseError, RecoveryKeyError } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { CodeField, FormField } from '../../components/form-field.tsx';
import { AlertIcon, ArrowLeftIcon, KeyIcon, LockIcon } from '../../components/icons.tsx';
import { PageHeading } from '../../components/page-heading.tsx';
import { ErrorAlert, LoadingState } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { usePendingAction } from '../../lib/use-pending-action.ts';
import { LinkThisDevice } from '../devices/link-this-device.tsx';
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
  const { pending, error, run } = usePendingAction();

  async function reset(event: FormEvent) {
    event.preventDefault();
    if (!client || !understood) return;
    await run(async () => {
      const { recoveryKey } = await client.devices.resetIdentity();
      setPendingRecoveryKey(recoveryKey);
      markReady();
      onClose();
    });
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
              Your other browsers and devices are signed out of encryption and must be linked again
              from this one, or set up with the new recovery key.
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

type RecoverMode = 'key' | 'passphrase';

function RecoverForm() {
  const { client, markReady } = useE2ee();
  const [mode, setMode] = useState<RecoverMode>('key');
  const [secret, setSecret] = useState('');
  const [pending, setPending] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [joining, setJoining] = useState(false);

  async function recover(event: FormEvent) {
    event.preventDefault();
    if (!client || pending) return;
    if (!secret.trim()) {
      setFieldError(mode === 'key' ? 'Enter your recovery key.' : 'Enter your backup passphrase.');
      return;
    }
    setPending(true);
    setFieldError(null);
    setError(null);
    try {
      if (mode === 'key') await client.devices.recover(secret);
      else await client.devices.recoverWithPassphrase(secret);
      setJoining(true);
      // New keys for every conversation, so the others' next messages reach this browser too.
      // A failure here is not fatal: this browser is set up, and each conversation rotates with
      // its next message from here instead.
      await client.conversations.rotateAll().catch(() => undefined);
      markReady();
    } catch (failure) {
      if (failure instanceof RecoveryKeyError || failure instanceof PassphraseError) {
        setFieldError(sentence(failure.message));
      } else setError(errorMessage(failure));
    } finally {
      setPending(false);
      setJoining(false);
    }
  }

  return (
    <>
      <fieldset className="choice-group">
        <legend className="field-label">How do you want to unlock?</legend>
        <div className="choice-row">
          {(
            [
              ['key', 'I have my recovery key'],
              ['passphrase', 'I set a backup passphrase'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="recover-mode"
                value={value}
                checked={mode === value}
                onChange={() => {
                  setMode(value);
                  setSecret('');
                  setFieldError(null);
                  setError(null);
                }}
              />
              {label}
            </label>
          ))}
        </div>
      </fieldset>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <form className="form" noValidate onSubmit={(event) => void recover(event)}>
        {mode === 'key' ? (
          <CodeField
            key="key"
            label="Recovery key"
            name="recoveryKey"
            placeholder="XXXX XXXX XXXX …"
            value={secret}
            errors={fieldError ? [fieldError] : undefined}
            hint={<p>56 letters and digits, in groups of four. Spaces and case do not matter.</p>}
            onChange={(event) => {
              setSecret(event.target.value);
              setFieldError(null);
            }}
          />
        ) : (
          <FormField
            key="passphrase"
            label="Backup passphrase"
            name="passphrase"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={secret}
            errors={fieldError ? [fieldError] : undefined}
            hint={
              <p>
                The passphrase you chose in Settings → Encryption on another device. It is not your
                sign-in password. Checking it takes a few seconds on purpose.
              </p>
            }
            onChange={(event) => {
              setSecret(event.target.value);
              setFieldError(null);
            }}
          />
        )}
        <SubmitButton
          pending={pending}
          pendingLabel={
            joining
              ? 'Sharing new keys with your conversations…'
              : mode === 'key'
                ? 'Checking the recovery key…'
                : 'Checking the passphrase…'
          }
        >
          Unlock messages
        </SubmitButton>
        {pending && (
          <p className="setup-progress-text" aria-hidden="true">
            {joining
              ? 'Sharing new keys with your conversations…'
              : mode === 'key'
                ? 'Checking the recovery key…'
                : 'Checking the passphrase…'}
          </p>
        )}
      </form>
    </>
  );
}

type UnlockPath = 'choose' | 'link' | 'recover';

function UnlockCard({ revoked }: { revoked: boolean }) {
  const [path, setPath] = useState<UnlockPath>('choose');
  const [resetOpen, setResetOpen] = useState(false);
  // The button that was pressed is gone with the view it belonged to: the new view's heading
  // takes focus, so keyboard and screen reader users start at its top.
  const card = useRef<HTMLElement>(null);
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    card.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [path]);

  const back = (
    <button type="button" className="link-button back-link" onClick={() => setPath('choose')}>
      <ArrowLeftIcon width={16} height={16} />
      Other ways to unlock
    </button>
  );

  if (path === 'link') {
    return (
      <section ref={card} className="card setup-card">
        <LinkThisDevice back={back} />
      </section>
    );
  }
  if (path === 'recover') {
    return (
      <section ref={card} className="card setup-card">
        {back}
        <div className="setup-icon">
          <KeyIcon width={28} height={28} />
        </div>
        <PageHeading title="Use your recovery key or passphrase" />
        <p className="card-description">
          Your keys and the history in your key backup are restored from your encrypted backup on
          the server, which only your recovery key (or the backup passphrase, if you set one) can
          open.
        </p>
        <RecoverForm />
      </section>
    );
  }

  return (
    <section ref={card} className="card setup-card">
      <div className="setup-icon">
        {revoked ? <AlertIcon width={28} height={28} /> : <KeyIcon width={28} height={28} />}
      </div>
      <PageHeading
        title={
          revoked
            ? 'This browser’s encryption keys were revoked'
            : 'Unlock your messages on this browser'
        }
      />
      <p className="card-description">
        {revoked
          ? 'It was removed from your devices, or your encryption identity was reset on another device. It cannot decrypt anything sent from now on. To use it again, unlock it like a new browser.'
          : 'Your account already uses end-to-end encryption, so this browser needs your keys before it can read or send messages. Choose how to bring them here.'}
      </p>
      <ul className="unlock-options">
        <li>
          <button
            type="button"
            className="unlock-option unlock-option-preferred"
            onClick={() => setPath('link')}
          >
            <span className="unlock-option-title">
              Link from another device
              <span className="badge">Recommended</span>
            </span>
            <span className="unlock-option-text">
              Show a code here and confirm it on a browser where you already use SecureChat. Your
              keys and history come straight from it.
            </span>
          </button>
        </li>
        <li>
          <button type="button" className="unlock-option" onClick={() => setPath('recover')}>
            <span className="unlock-option-title">Use recovery key or passphrase</span>
            <span className="unlock-option-text">
              The recovery key you saved when you set up encryption, or your backup passphrase if
              you set one. Your backed-up history is restored.
            </span>
          </button>
        </li>
      </ul>
      <div className="setup-footer">
        <h2 className="setup-footer-title">No other device, no recovery key?</h2>
        <p className="card-description">
          As a last resort you can start over with a new encryption identity: your earlier messages
          become unreadable, and your contacts are told your identity changed.
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
    content = <UnlockCard revoked={status === 'revoked'} />;
  } else {
    content = <LoadingState label="Loading your encryption keys" />;
  }
  return <div className="setup">{content}</div>;
}
