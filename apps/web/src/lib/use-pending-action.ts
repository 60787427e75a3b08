import { useState } from 'react';
import { errorMessage } from './api-errors.ts';

/**
 * Runs one async action at a time and keeps what a form shows about it: whether it runs, and the
 * message of its last failure. A second call while one runs does nothing.
 */
export function usePendingAction() {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  /** `describe` turns a failure into the message shown (by default the server's message). */
  async function run(
    action: () => Promise<void>,
    describe: (failure: unknown) => string = errorMessage,
  ): Promise<void> {
    if (pending) return;
    setPending(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setPending(false);
    }
  }

  return { pending, error, run };
}
