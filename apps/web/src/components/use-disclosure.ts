import { useEffect, useRef, useState, type FocusEvent } from 'react';

/**
 * A button that shows and hides a panel of ordinary controls (a disclosure, not an ARIA menu: the
 * controls are reached with Tab). Escape closes it and puts the focus back on its button; a press
 * outside `rootRef`, or the focus leaving it, closes it too.
 */
export function useDisclosure() {
  const [open, setOpen] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
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
  /** For the root's `onBlur`: tabbing out of the panel closes it. */
  const onBlur = (event: FocusEvent) => {
    if (open && !rootRef.current?.contains(event.relatedTarget as Node | null)) setOpen(false);
  };
  return { open, setOpen, rootRef, buttonRef, onBlur };
}
