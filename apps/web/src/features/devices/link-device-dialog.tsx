import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { LinkCodeError, type LinkPreview } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { CodeField } from '../../components/form-field.tsx';
import { AlertIcon, DesktopIcon } from '../../components/icons.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { ActionButton, SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { usePendingAction } from '../../lib/use-pending-action.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { QrScanner, canScanQrCodes } from './qr-scanner.tsx';
import { normalizeCode } from './code-format.ts';

/** "Link code is mistyped: …" reads better with a capital and a full stop. */
function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function codeErrorText(error: LinkCodeError): string {
  if (error.reason === 'not-found') {
    return 'No link request of your account has this code: it may be mistyped, expired, already used or cancelled, or the new device is signed in to another account. Check the code there, or get a new one.';
  }
  return sentence(error.message);
}

type Step = { step: 'enter' } | { step: 'scan' } | { step: 'confirm'; preview: LinkPreview };

function EnterCode({
  onPreview,
  scanned,
  onScan,
  onCancel,
}: {
  onPreview: (preview: LinkPreview) => void;
  scanned: string | null;
  onScan: (() => void) | null;
  onCancel: () => void;
}) {
  const { client } = useReadyE2ee();
  const [code, setCode] = useState(scanned ?? '');
  const [pending, setPending] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLFormElement>(null);

  async function inspect(text: string) {
    if (pending) return;
    if (!normalizeCode(text)) {
      setFieldError('Enter the code shown on the new device.');
      return;
    }
    setPending(true);
    setFieldError(null);
    setError(null);
    try {
      onPreview(await client.devices.inspectLink(text.trim()));
    } catch (failure) {
      if (failure instanceof LinkCodeError) setFieldError(codeErrorText(failure));
      else setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  }

  // A scanned code goes straight to the confirmation; a wrong one shows its error here.
  const inspectRef = useRef(inspect);
  useEffect(() => {
    inspectRef.current = inspect;
  });
  useEffect(() => {
    if (scanned) void inspectRef.current(scanned);
  }, [scanned]);

  useEffect(() => {
    if (fieldError) input.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [fieldError]);

  return (
    <form
      ref={input}
      className="form"
      noValidate
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        void inspect(code);
      }}
    >
      <ol className="link-steps">
        <li>
          On the new browser or device, sign in and choose <strong>Link from another device</strong>
          .
        </li>
        <li>Type the code it shows{onScan ? ', or scan its QR code' : ''}.</li>
      </ol>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <CodeField
        label="Link code"
        name="code"
        inputMode="text"
        placeholder="XXXX-XXXX-…"
        value={code}
        errors={fieldError ? [fieldError] : undefined}
        hint={
          <p>28 letters and digits in groups of four. Spaces, dashes and case do not matter.</p>
        }
        onChange={(event) => {
          setCode(event.target.value);
          setFieldError(null);
        }}
      />
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
        {onScan && (
          <button type="button" className="btn btn-secondary" onClick={onScan}>
            Scan QR code
          </button>
        )}
        <SubmitButton pending={pending} pendingLabel="Looking up the code…">
          Continue
        </SubmitButton>
      </div>
    </form>
  );
}

function ConfirmLink({
  preview,
  onDone,
  onBack,
}: {
  preview: LinkPreview;
  onDone: () => void;
  onBack: () => void;
}) {
  const { user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const { pending, error, run } = usePendingAction();
  // The "Continue" button is gone: the device's name, what is being confirmed, takes focus.
  const previewRef = useRef<HTMLDivElement>(null);
  useEffect(() => previewRef.current?.focus(), []);

  async function approve() {
    await run(
      async () => {
        await preview.approve();
        void queryClient.invalidateQueries({ queryKey: e2eeKeys.devices(user.id) });
        onDone();
      },
      (failure) =>
        failure instanceof LinkCodeError
          ? 'The new device stopped waiting: its code expired or was replaced. Nothing was sent. Get a new code there and start again.'
          : errorMessage(failure),
    );
  }

  return (
    <div className="form">
      <div ref={previewRef} className="link-preview" tabIndex={-1}>
        <span className="session-icon">
          <DesktopIcon />
        </span>
        <div>
          <p className="link-preview-label">New device</p>
          <p className="link-preview-name">{preview.deviceName}</p>
        </div>
      </div>
      <div className="warning-box">
        <AlertIcon className="alert-icon" />
        <ul className="warning-list">
          <li>Confirm only if you started linking on that device yourself, just now.</li>
          <li>
            It receives your encryption identity and your history keys, and can read your
            conversations like this device.
          </li>
        </ul>
      </div>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" disabled={pending} onClick={onBack}>
          Back
        </button>
        <ActionButton
          variant="primary"
          pending={pending}
          pendingLabel="Sending your keys to the new device…"
          onClick={() => void approve()}
        >
          Link {preview.deviceName}
        </ActionButton>
      </div>
    </div>
  );
}

/**
 * Linking a new device from this one: the code (typed, pasted or scanned), then a confirmation
 * naming the device that asked, then the keys are sealed to it and sent. `onClose` gets the new
 * device's name once it is linked.
 */
export function LinkDeviceDialog({
  open,
  onClose,
}: {
  open: boolean;
  onClose: (linkedName?: string) => void;
}) {
  const [state, setState] = useState<Step>({ step: 'enter' });
  const [scanned, setScanned] = useState<string | null>(null);
  const [canScan, setCanScan] = useState(false);

  useEffect(() => {
    if (!open) return;
    let active = true;
    void canScanQrCodes().then((can) => {
      if (active) setCanScan(can);
    });
    return () => {
      active = false;
    };
  }, [open]);

  function close(linkedName?: string) {
    setState({ step: 'enter' });
    setScanned(null);
    onClose(linkedName);
  }

  return (
    <Dialog
      open={open}
      onClose={() => close()}
      title={state.step === 'confirm' ? 'Link this device?' : 'Link a new device'}
    >
      {state.step === 'confirm' ? (
        <ConfirmLink
          preview={state.preview}
          onBack={() => {
            setScanned(null);
            setState({ step: 'enter' });
          }}
          onDone={() => close(state.preview.deviceName)}
        />
      ) : state.step === 'scan' ? (
        <div className="form">
          <QrScanner
            onCode={(text) => {
              setScanned(text);
              setState({ step: 'enter' });
            }}
          />
          <div className="dialog-actions">
            <button
              type="button"
              className="btn btn-secondary"
              onClick={() => setState({ step: 'enter' })}
            >
              Type the code instead
            </button>
          </div>
        </div>
      ) : (
        <EnterCode
          key={scanned ?? 'typed'}
          scanned={scanned}
          onPreview={(preview) => setState({ step: 'confirm', preview })}
          onScan={canScan ? () => setState({ step: 'scan' }) : null}
          onCancel={() => close()}
        />
      )}
    </Dialog>
  );
}
