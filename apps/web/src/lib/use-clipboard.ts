import { useState } from 'react';

/** Where a copy stands: not tried yet, done, or refused by the browser. */
export type CopyState = 'idle' | 'copied' | 'failed';

/**
 * Copies text to the clipboard and keeps the outcome to show: `copied`, or `failed` where the
 * browser refused (the page should then tell the user to copy by hand).
 */
export function useClipboard() {
  const [state, setState] = useState<CopyState>('idle');

  async function copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  }

  return { state, copy };
}
