import { useId } from 'react';
import { useSignOut } from '../features/auth/use-sign-out.ts';
import type { SessionUser } from '../features/auth/use-session.ts';
import { errorMessage } from '../lib/api-errors.ts';
import { ChevronDownIcon, SignOutIcon } from './icons.tsx';
import { useDisclosure } from './use-disclosure.ts';

/** The account button and its panel (see {@link useDisclosure}). */
export function UserMenu({ user }: { user: SessionUser }) {
  const { open, setOpen, rootRef, buttonRef, onBlur } = useDisclosure();
  const panelId = useId();
  const { signOut, isPending, error } = useSignOut();

  return (
    <div className="user-menu" ref={rootRef} onBlur={onBlur}>
      <button
        ref={buttonRef}
        type="button"
        className="user-menu-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`Account: ${user.username}`}
        onClick={() => setOpen((value) => !value)}
      >
        <span className="avatar" aria-hidden="true">
          {user.username.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-menu-name">{user.username}</span>
        <ChevronDownIcon className="user-menu-chevron" />
      </button>
      <div id={panelId} className="popover user-menu-panel" hidden={!open}>
        <p className="user-menu-who">
          Signed in as <strong>{user.username}</strong>
        </p>
        {error && (
          <p role="alert" className="user-menu-error">
            {errorMessage(error)}
          </p>
        )}
        <button
          type="button"
          className="btn btn-secondary btn-full"
          aria-disabled={isPending || undefined}
          onClick={() => {
            if (!isPending) signOut();
          }}
        >
          <SignOutIcon />
          Sign out
        </button>
      </div>
    </div>
  );
}
