import type { ReactNode } from 'react';

/**
 * A button that shows only an icon: `label` is its accessible name and its tooltip, so it is
 * named for screen readers and browser tests alike.
 */
export function IconButton({
  label,
  title = label,
  onClick,
  children,
}: {
  label: string;
  title?: string;
  onClick(): void;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className="icon-button"
      aria-label={label}
      title={title}
      onClick={onClick}
    >
      {children}
    </button>
  );
}
