import { ErrorAlert, LoadingState } from './status.tsx';

/** The whole viewport while the app cannot show anything else yet. */
export function FullPageLoading({ label }: { label: string }) {
  return (
    <main className="full-page">
      <LoadingState label={label} />
    </main>
  );
}

/** The whole viewport when the app cannot start, e.g. the server is unreachable. */
export function FullPageError({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <main className="full-page">
      <div className="full-page-card">
        <h1 className="full-page-title">SecureChat is unavailable</h1>
        <ErrorAlert {...(onRetry ? { onRetry } : {})}>{message}</ErrorAlert>
      </div>
    </main>
  );
}
