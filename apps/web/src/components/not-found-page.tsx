import { Link } from 'react-router';

/** Any path the app does not know. */
export function NotFoundPage() {
  return (
    <main className="full-page">
      <div className="full-page-card">
        <title>Page not found · SecureChat</title>
        <h1 className="full-page-title">Page not found</h1>
        <p>There is nothing at this address.</p>
        <p>
          <Link to="/" className="btn btn-primary">
            Go to SecureChat
          </Link>
        </p>
      </div>
    </main>
  );
}
