import { formatAbsolute, formatRelative } from '../lib/time.ts';

/** A time shown relative to now, with the exact time in its tooltip and `dateTime`. */
export function RelativeTime({ date, now }: { date: Date; now: number }) {
  return (
    <time dateTime={date.toISOString()} title={formatAbsolute(date)}>
      {formatRelative(date, now)}
    </time>
  );
}
