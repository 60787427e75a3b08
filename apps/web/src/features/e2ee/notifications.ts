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
  notify(input.conversationTitle, body, `conversation-${input.conversationId}`, input.onClick);
}

/**
 * A desktop notification for a calendar reminder. The server sends reminders without content;
 * the title was decrypted on this device (null when it could not be).
 */
export function showReminderNotification(input: {
  title: string | null;
  start: string;
  allDay: boolean;
  minutesBefore: number;
  eventId: string;
  onClick: () => void;
}): void {
  if (notificationPermission() !== 'granted') return;
  // An all-day start is a date: read at local noon so no zone moves it to another day.
  const day = new Date(`${input.start.slice(0, 10)}T12:00:00`);
  const today = new Date();
  const when = input.allDay
    ? `${
        day.toDateString() === today.toDateString()
          ? 'Today'
          : day.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' })
      }, all day`
    : input.minutesBefore === 0
      ? 'Starting now'
      : `Starts at ${new Date(input.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  notify(
    input.title ?? 'Calendar event',
    when,
    `calendar-${input.eventId}-${input.start}`,
    input.onClick,
  );
}

/** Shows a notification that, when clicked, brings the app forward and runs `onClick`. */
function notify(title: string, body: string, tag: string, onClick: () => void): void {
  try {
    const notification = new Notification(title, { body, tag, icon: '/favicon.svg' });
    notification.onclick = () => {
      window.focus();
      onClick();
      notification.close();
    };
  } catch {
    // Some browsers allow notifications only from a service worker; nothing to show then.
  }
}
