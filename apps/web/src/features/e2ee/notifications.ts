/** The browser's notification permission, or 'unsupported' where there is no Notification API. */
export function notificationPermission(): NotificationPermission | 'unsupported' {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

/** Asks for permission; only ever called from a button the user pressed. */
export async function requestNotificationPermission(): Promise<
  NotificationPermission | 'unsupported'
> {
  if (!('Notification' in window)) return 'unsupported';
  return Notification.requestPermission();
}

/**
 * A desktop notification for a new message. Without previews it says only who wrote where, never
 * the text. Notifications of one conversation replace each other (same tag).
 */
export function showMessageNotification(input: {
  conversationTitle: string;
  sender: string;
  text: string | null;
  conversationId: string;
  onClick: () => void;
}): void {
  if (notificationPermission() !== 'granted') return;
  const body =
    input.text === null
      ? `New message from ${input.sender}`
      : `${input.sender}: ${input.text.length > 140 ? `${input.text.slice(0, 139)}…` : input.text}`;
  try {
    const notification = new Notification(input.conversationTitle, {
      body,
      tag: `conversation-${input.conversationId}`,
      icon: '/favicon.svg',
    });
    notification.onclick = () => {
      window.focus();
      input.onClick();
      notification.close();
    };
  } catch {
    // Some browsers allow notifications only from a service worker; nothing to show then.
  }
}
