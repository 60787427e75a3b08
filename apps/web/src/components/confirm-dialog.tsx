import type { ReactNode } from 'react';
import { Dialog } from './dialog.tsx';
import { ErrorAlert } from './status.tsx';
import { ActionButton } from './submit-button.tsx';

/**
 * Asks before a destructive action: what it does (`children`), why it failed if it did, Cancel,
 * and the button that does it. While the action runs the dialog stays open.
 */
export function ConfirmDialog({
  open,
  onClose,
  title,
  description,
  confirmLabel,
  pendingLabel,
  pending,
  error,
  onConfirm,
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  description: ReactNode;
  confirmLabel: ReactNode;
  /** Announced while the action runs. */
  pendingLabel?: string;
  pending: boolean;
  error: string | null;
  onConfirm: () => void;
  children?: ReactNode;
}) {
  return (
    <Dialog
      open={open}
      onClose={() => {
        if (!pending) onClose();
      }}
      title={title}
      description={description}
    >
      <div className="form">
        {children}
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <div className="dialog-actions">
          <button
            type="button"
            className="btn btn-secondary"
            disabled={pending}
            onClick={() => onClose()}
          >
            Cancel
          </button>
          <ActionButton pending={pending} pendingLabel={pendingLabel} onClick={onConfirm}>
            {confirmLabel}
          </ActionButton>
        </div>
      </div>
    </Dialog>
  );
}
