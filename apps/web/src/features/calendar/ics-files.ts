import type { IcsEvent } from './ics.ts';

/**
 * Saves events as an .ics file through the browser's download. The iCalendar code (`ics.ts`, with
 * ical.js) is loaded on first use, not with the app.
 */
export async function downloadIcs(events: readonly IcsEvent[], fileName: string): Promise<void> {
  const { toIcs } = await import('./ics.ts');
  const blob = new Blob([toIcs(events)], { type: 'text/calendar;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Give the download a moment to start before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
