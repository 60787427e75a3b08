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
