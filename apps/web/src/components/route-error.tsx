import { isRouteErrorResponse, useRouteError } from 'react-router';

/** Shown when a page fails to render: say so, and offer the one fix a user has, reloading. */
export function RouteError() {
  const error = useRouteError();
  const detail = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : null;
  return (
    <main className="full-page">
      <div className="full-page-card">
        <h1 className="full-page-title">Something went wrong</h1>
        <div role="alert" className="alert alert-error">
          <div className="alert-body">
            <p>This page hit an unexpected error{detail ? `: ${detail}` : '.'}</p>
          </div>
        </div>
        <p>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => window.location.reload()}
          >
            Reload the page
          </button>
        </p>
      </div>
    </main>
  );
}
