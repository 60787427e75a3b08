import { useEffect, useId, useRef, useState } from 'react';
import { useSignOut } from '../features/auth/use-sign-out.ts';
import type { SessionUser } from '../features/auth/use-session.ts';
import { errorMessage } from '../lib/api-errors.ts';
import { ChevronDownIcon, SignOutIcon } from './icons.tsx';

/**
 * The account button and its panel (a disclosure, not an ARIA menu: it holds ordinary controls
 * reached with Tab). Escape or a click elsewhere closes it.
 */
export function UserMenu({ user }: { user: SessionUser }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const { signOut, isPending, error } = useSignOut();

  useEffect(() => {
    if (!open) return;
    function onPointerDown(event: PointerEvent) {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    }
    function onKeyDown(event: KeyboardEvent) {
      if (event.key === 'Escape') {
        setOpen(false);
        buttonRef.current?.focus();
      }
    }
    document.addEventListener('pointerdown', onPointerDown);
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown);
      document.removeEventListener('keydown', onKeyDown);
    };
  }, [open]);

  return (
    <div
      className="user-menu"
      ref={rootRef}
      onBlur={(event) => {
        // Tabbing out of the panel closes it.
        if (open && !rootRef.current?.contains(event.relatedTarget as Node | null)) setOpen(false);
      }}
    >
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
      <div id={panelId} className="user-menu-panel" hidden={!open}>
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
