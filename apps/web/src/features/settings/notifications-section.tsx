import { useState } from 'react';
import { useE2ee } from '../e2ee/e2ee-context.ts';
import { useLocalPrefs } from '../e2ee/local-prefs.ts';
import { notificationPermission, requestNotificationPermission } from '../e2ee/notifications.ts';
import { Card } from '../../components/card.tsx';
import { ToggleField } from './toggle-field.tsx';

const PERMISSION_TEXT = {
  granted: 'This browser allows SecureChat to show notifications.',
  denied:
    'This browser blocks notifications from SecureChat. Allow them in the site settings (the icon beside the address), then reload.',
  default: 'SecureChat has not asked this browser for permission yet.',
  unsupported: 'This browser cannot show notifications.',
} as const;

/** Desktop notifications on this browser: on or off, and whether they show message text. */
export function NotificationsSection() {
  const { user } = useE2ee();
  const [prefs, setPrefs] = useLocalPrefs(user.id);
  const [permission, setPermission] = useState(notificationPermission);
  return (
    <Card
      title="Notifications"
      description="Shown for new messages while SecureChat is open in a background tab. Saved on this browser only. To silence one conversation, mute it from its header."
    >
      <p className="settings-note" role="status">
        {PERMISSION_TEXT[permission]}
      </p>
      {permission === 'default' && (
        <div className="form-actions">
          <button
            type="button"
            className="btn btn-secondary btn-block-phone"
            onClick={() =>
              void requestNotificationPermission().then((result) => {
                setPermission(result);
                if (result === 'granted') setPrefs({ notifications: true });
              })
            }
          >
            Allow notifications
          </button>
        </div>
      )}
      <div className="toggle-list">
        <ToggleField
          label="Desktop notifications"
          description="Tell me about new messages while the SecureChat tab is in the background."
          checked={prefs.notifications && permission === 'granted'}
          disabled={permission !== 'granted'}
          onChange={(notifications) => setPrefs({ notifications })}
        />
        <ToggleField
          label="Show message text in notifications"
          description="Off: a notification says only who wrote. On: it shows the text, which anyone who can see your screen can read, and which your operating system may keep in its notification history."
          checked={prefs.notificationPreviews && permission === 'granted'}
          disabled={permission !== 'granted'}
          onChange={(notificationPreviews) => setPrefs({ notificationPreviews })}
        />
      </div>
    </Card>
  );
}
