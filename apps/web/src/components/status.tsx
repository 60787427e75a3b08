import type { ReactNode } from 'react';
import { AlertIcon } from './icons.tsx';

/** A spinner announced politely to assistive technology. */
export function LoadingState({ label, className }: { label: string; className?: string }) {
  return (
    <div role="status" className={['loading-state', className].filter(Boolean).join(' ')}>
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** Placeholder rows shown while a list loads; one status message stands for all of them. */
export function SkeletonList({ label, rows = 2 }: { label: string; rows?: number }) {
  return (
    <div role="status" className="skeleton-list">
      <span className="sr-only">{label}</span>
      {Array.from({ length: rows }, (_, index) => (
        <div key={index} className="skeleton-row" aria-hidden="true">
          <span className="skeleton skeleton-icon" />
          <span className="skeleton-lines">
            <span className="skeleton skeleton-line" />
            <span className="skeleton skeleton-line skeleton-line-short" />
          </span>
        </div>
      ))}
    </div>
  );
}

/** An error the user should notice at once, with an optional way to try again. */
export function ErrorAlert({
  children,
  onRetry,
  retryLabel = 'Try again',
}: {
  children: ReactNode;
  onRetry?: () => void;
  retryLabel?: string;
}) {
  return (
    <div role="alert" className="alert alert-error">
      <AlertIcon className="alert-icon" />
      <div className="alert-body">
        <p>{children}</p>
        {onRetry && (
          <button type="button" className="btn btn-secondary btn-small" onClick={onRetry}>
            {retryLabel}
          </button>
        )}
      </div>
    </div>
  );
}

/** An honest "nothing here yet" with what would make something appear. */
export function EmptyState({
  icon,
  title,
  children,
  headingLevel = 2,
}: {
  icon: ReactNode;
  title: string;
  children: ReactNode;
  headingLevel?: 2 | 3;
}) {
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <div className="empty-state">
      <div className="empty-state-icon">{icon}</div>
      <Heading className="empty-state-title">{title}</Heading>
      <div className="empty-state-body">{children}</div>
    </div>
  );
}
