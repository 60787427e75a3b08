import { Link } from 'react-router';
import { LockIcon } from '../../components/icons.tsx';
import { PageHeading } from '../../components/page-heading.tsx';
import { EmptyState } from '../../components/status.tsx';
import { useSession } from '../auth/use-session.ts';

/**
 * The home page. Conversations need end-to-end encryption keys on this device, which a later
 * feature sets up; until then this says so plainly instead of showing anything made up.
 */
export function ChatsPage() {
  const { user } = useSession();
  return (
    <div className="page">
      <div className="page-header">
        <PageHeading title="Chats" />
        {user && <p className="page-subtitle">Welcome, {user.username}.</p>}
      </div>
      <section className="card">
        <EmptyState icon={<LockIcon width={28} height={28} />} title="No conversations yet">
          <p>
            Conversations arrive with end-to-end encryption setup, which this version of SecureChat
            does not have yet. Once it does, your messages will be encrypted on your device before
            they are sent, and your chats will be listed here.
          </p>
          <p>
            Meanwhile you can review where you are signed in, or change your password, in{' '}
            <Link to="/settings">Settings</Link>.
          </p>
        </EmptyState>
      </section>
    </div>
  );
}
