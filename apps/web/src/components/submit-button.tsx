import type { ReactNode } from 'react';

/**
 * A form's primary button. While the call runs it stays labelled as it was (so it can still be
 * found by name), shows a spinner, refuses a second submit, and announces progress.
 */
export function SubmitButton({
  pending,
  pendingLabel,
  children,
  variant = 'primary',
}: {
  pending: boolean;
  pendingLabel: string;
  children: ReactNode;
  variant?: 'primary' | 'secondary';
}) {
  return (
    <>
      <button
        type="submit"
        className={`btn btn-${variant} btn-block-phone`}
        aria-disabled={pending || undefined}
        onClick={(event) => {
          if (pending) event.preventDefault();
        }}
      >
        {pending && <span className="spinner spinner-small" aria-hidden="true" />}
        {children}
      </button>
      <span role="status" className="sr-only">
        {pending ? pendingLabel : ''}
      </span>
    </>
  );
}

/**
 * The button that confirms an action outside a form (a destructive one by default). While the
 * action runs it stays labelled as it was, shows a spinner, reports `aria-disabled` (`onClick`
 * should ignore clicks meanwhile) and, given a `pendingLabel`, announces progress.
 */
export function ActionButton({
  pending,
  pendingLabel,
  onClick,
  children,
  variant = 'danger',
}: {
  pending: boolean;
  pendingLabel?: string;
  onClick: () => void;
  children: ReactNode;
  variant?: 'primary' | 'danger';
}) {
  return (
    <>
      <button
        type="button"
        className={`btn ${variant === 'danger' ? 'btn-danger-solid' : 'btn-primary'}`}
        aria-disabled={pending || undefined}
        onClick={onClick}
      >
        {pending && <span className="spinner spinner-small" aria-hidden="true" />}
        {children}
      </button>
      {pendingLabel !== undefined && (
        <span role="status" className="sr-only">
          {pending ? pendingLabel : ''}
        </span>
      )}
    </>
  );
}
