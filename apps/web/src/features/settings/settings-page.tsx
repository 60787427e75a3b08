import { Card } from '../../components/card.tsx';
import { PageHeading } from '../../components/page-heading.tsx';
import { SignOutIcon } from '../../components/icons.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useSession } from '../auth/use-session.ts';
import { useSignOut } from '../auth/use-sign-out.ts';
import { DevicesSection } from '../devices/devices-section.tsx';
import { ChangePasswordSection } from './change-password-section.tsx';
import { EncryptionSections } from './encryption-section.tsx';
import { NotificationsSection } from './notifications-section.tsx';
import { PrivacySection } from './privacy-section.tsx';
import { SessionsSection } from './sessions-section.tsx';

/**
 * Settings: privacy (server-side, for the account), notifications (this browser), safety numbers,
 * key backup and local history (end-to-end encryption on this browser), devices, sessions,
 * password, and signing out.
 */
export function SettingsPage() {
  const { user } = useSession();
  const { signOut, isPending, error } = useSignOut();
  return (
    <div className="page">
      <div className="page-header">
        <PageHeading title="Settings" />
        {user && (
          <p className="page-subtitle">
            Signed in as <strong>{user.username}</strong>
          </p>
        )}
      </div>
      <PrivacySection />
      <NotificationsSection />
      <EncryptionSections />
      <DevicesSection />
      <SessionsSection />
      <ChangePasswordSection username={user?.username ?? ''} />
      <Card title="Sign out" description="End this session. Your other sessions stay signed in.">
        {error && <ErrorAlert>{errorMessage(error)}</ErrorAlert>}
        <div className="form-actions">
          <button
            type="button"
            className="btn btn-secondary btn-block-phone"
            aria-disabled={isPending || undefined}
            onClick={() => {
              if (!isPending) signOut();
            }}
          >
            <SignOutIcon />
            Sign out
          </button>
        </div>
      </Card>
    </div>
  );
}
