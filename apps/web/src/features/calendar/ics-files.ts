import { toIcs, type IcsEvent } from './ics.ts';

/** Saves events as an .ics file through the browser's download. */
export function downloadIcs(events: readonly IcsEvent[], fileName: string): void {
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
