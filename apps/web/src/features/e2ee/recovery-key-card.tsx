import { useId, useState } from 'react';
import { PageHeading } from '../../components/page-heading.tsx';
import { KeyIcon } from '../../components/icons.tsx';
import { CopiedStatus } from '../../components/copy-status.tsx';
import { useClipboard } from '../../lib/use-clipboard.ts';

/**
 * The recovery key, shown once after setup (or a reset): copy, download, and an explicit
 * confirmation that it is kept somewhere safe before going on.
 */
export function RecoveryKeyCard({
  recoveryKey,
  username,
  onDone,
}: {
  recoveryKey: string;
  username: string;
  onDone: () => void;
}) {
  const [saved, setSaved] = useState(false);
  const clipboard = useClipboard();
  const keyId = useId();
  const checkboxId = useId();

  function download() {
    const text = [
      'SecureChat recovery key',
      `Account: ${username}`,
      `Server: ${window.location.origin}`,
      '',
      recoveryKey,
      '',
      'Anyone with this key and your password can read your encrypted messages on a new device.',
      'Keep it somewhere safe, such as a password manager, and never share it.',
      '',
    ].join('\n');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `securechat-recovery-key-${username}.txt`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  }

  return (
    <div className="setup">
      <section className="card setup-card" aria-labelledby="recovery-heading">
        <div className="setup-icon">
          <KeyIcon width={28} height={28} />
        </div>
        <PageHeading title="Save your recovery key" />
        <p className="card-description">
          Encryption is set up on this browser. A new browser or device is easiest linked from this
          one; you need this recovery key when no signed-in device is at hand (or on this one again,
          should its data be cleared). It is shown <strong>only this once</strong>: SecureChat’s
          server never sees it and cannot recover it for you. Without it or another device, a new
          browser can only start over with a new encryption identity.
        </p>
        <div className="recovery-key-box">
          <p id={keyId} className="recovery-key-label">
            Recovery key
          </p>
          <output className="recovery-key" aria-labelledby={keyId}>
            {recoveryKey}
          </output>
        </div>
        <div className="button-row">
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => void clipboard.copy(recoveryKey)}
          >
            Copy recovery key
          </button>
          <button type="button" className="btn btn-secondary" onClick={download}>
            Download recovery key
          </button>
          <CopiedStatus state={clipboard.state} />
        </div>
        {clipboard.state === 'failed' && (
          <p role="alert" className="field-error">
            This browser did not allow copying. Select the key and copy it, or download it.
          </p>
        )}
        <div className="checkbox-field">
          <input
            id={checkboxId}
            type="checkbox"
            checked={saved}
            onChange={(event) => setSaved(event.target.checked)}
          />
          <label htmlFor={checkboxId}>I have saved my recovery key somewhere safe</label>
        </div>
        <div className="form-actions">
          <button type="button" className="btn btn-primary" disabled={!saved} onClick={onDone}>
            Continue to chats
          </button>
        </div>
      </section>
    </div>
  );
}
