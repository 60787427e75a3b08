import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { LinkError, type PendingLink } from '@securechat/client';
import { CheckIcon, DesktopIcon } from '../../components/icons.tsx';
import { PageHeading } from '../../components/page-heading.tsx';
import { ErrorAlert, LoadingState } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useNow } from '../../lib/time.ts';
import { useE2ee } from '../e2ee/e2ee-context.ts';
import { formatCountdown } from './code-format.ts';
import { QrCode } from './qr-code.tsx';
import { ShortCode } from './short-code.tsx';

type LinkState =
  | { step: 'starting' }
  | { step: 'waiting'; link: PendingLink }
  | { step: 'expired' }
  | { step: 'done' }
  | { step: 'error'; message: string };

function Countdown({ expiresAt }: { expiresAt: Date }) {
  const now = useNow(1_000);
  const left = expiresAt.getTime() - now;
  const minutes = Math.max(1, Math.ceil(left / 60_000));
  return (
    <p className="link-countdown">
      {/* The visible clock ticks every second; its accessible text changes once a minute, so a
          screen reader is not flooded. */}
      <span aria-hidden="true">Expires in {formatCountdown(left)}</span>
      <span className="sr-only">
        Expires in {minutes === 1 ? 'less than a minute' : `about ${minutes} minutes`}
      </span>
    </p>
  );
}

/**
 * The new browser's side of linking: it makes its keys and a link request, shows the request as
 * a QR code and a short code, and waits until a signed-in device confirms it. The identity and
 * history keys then arrive sealed to this browser, and it goes on into the app. `back` (the way
 * to the other ways in) is shown until the keys have arrived.
 */
export function LinkThisDevice({ back }: { back: ReactNode }) {
  const { client, markReady } = useE2ee();
  const [state, setState] = useState<LinkState>({ step: 'starting' });
  // The request being shown, to withdraw it when a new one replaces it or the view closes.
  const current = useRef<{ link: PendingLink; abort: AbortController } | null>(null);
  const [attempt, setAttempt] = useState(0);

  const withdraw = useCallback(() => {
    const shown = current.current;
    current.current = null;
    if (!shown) return;
    shown.abort.abort();
    void shown.link.cancel().catch(() => undefined);
  }, []);

  useEffect(() => {
    if (!client) return;
    let active = true;
    void (async () => {
      try {
        const link = await client.devices.startLink();
        if (!active) {
          void link.cancel().catch(() => undefined);
          return;
        }
        const abort = new AbortController();
        current.current = { link, abort };
        setState({ step: 'waiting', link });
        await link.wait({ signal: abort.signal });
        if (!active) return;
        current.current = null;
        setState({ step: 'done' });
      } catch (error) {
        if (!active) return;
        if (error instanceof LinkError && error.reason === 'expired') {
          withdraw();
          setState({ step: 'expired' });
        } else if (error instanceof LinkError) {
          withdraw();
          setState({
            step: 'error',
            message:
              'The keys that arrived could not be verified, so they were not used. Start again with a new code.',
          });
        } else {
          withdraw();
          setState({ step: 'error', message: errorMessage(error) });
        }
      }
    })();
    return () => {
      active = false;
      withdraw();
    };
  }, [client, attempt, withdraw]);

  const regenerate = () => {
    withdraw();
    setState({ step: 'starting' });
    setAttempt((n) => n + 1);
  };

  let body;
  switch (state.step) {
    case 'starting':
      body = <LoadingState label="Creating this browser’s keys and a link code…" />;
      break;
    case 'waiting':
      body = (
        <>
          <ol className="link-steps">
            <li>On a browser where you already use SecureChat, open Settings → Devices.</li>
            <li>
              Choose <strong>Link a new device</strong>, then scan this QR code or type the code
              below.
            </li>
            <li>Check that the name it shows is this browser, and confirm.</li>
          </ol>
          <div className="link-code-layout">
            <QrCode
              value={state.link.qrText}
              label="QR code to link this browser; scan it with your signed-in device"
            />
            <div className="link-code-side">
              <ShortCode code={state.link.code} label="Link code" />
              <Countdown expiresAt={state.link.expiresAt} />
              <div className="link-waiting" role="status">
                <span className="spinner spinner-small" aria-hidden="true" />
                Waiting for your other device to confirm…
              </div>
              <button type="button" className="btn btn-secondary btn-small" onClick={regenerate}>
                New code
              </button>
            </div>
          </div>
          <p className="settings-note">
            Nothing is sent until you confirm on your other device, and what it sends can be opened
            only by this browser.
          </p>
        </>
      );
      break;
    case 'expired':
      body = (
        <>
          <ErrorAlert onRetry={regenerate} retryLabel="Get a new code">
            This code expired before it was confirmed.
          </ErrorAlert>
        </>
      );
      break;
    case 'error':
      body = (
        <ErrorAlert onRetry={regenerate} retryLabel="Get a new code">
          {state.message}
        </ErrorAlert>
      );
      break;
    case 'done':
      body = (
        <>
          <div className="link-done" role="status">
            <CheckIcon width={22} height={22} />
            This browser is linked. Your keys and history arrived from your other device.
          </div>
          <div className="form-actions">
            <button
              ref={(button) => button?.focus()}
              type="button"
              className="btn btn-primary"
              onClick={markReady}
            >
              Continue to chats
            </button>
          </div>
        </>
      );
      break;
  }

  return (
    <>
      {/* Once linked there is no going back to the other ways in: this browser has its keys. */}
      {state.step !== 'done' && back}
      <div className="setup-icon">
        <DesktopIcon width={28} height={28} />
      </div>
      <PageHeading title="Link from another device" />
      <p className="card-description">
        Your signed-in device sends this browser your encryption keys and recent history, sealed so
        that only this browser can open them: the server only passes them on.
      </p>
      {body}
    </>
  );
}
