import type { CopyState } from '../lib/use-clipboard.ts';

/** Announces a successful copy (from `useClipboard`) politely, next to the copy button. */
export function CopiedStatus({ state }: { state: CopyState }) {
  return (
    <span role="status" className="form-success">
      {state === 'copied' ? 'Copied to the clipboard.' : ''}
    </span>
  );
}
