import { useId, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { ConversationSummary } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { formatWhen } from './calendar-time.ts';
import { IcsError, parseIcs, type IcsImport } from './ics.ts';
import { inputFromIcs } from './ics-model.ts';
import { calendarKeys } from './use-calendar.ts';

/** Files larger than this are refused before parsing (a calendar of years is far smaller). */
const MAX_ICS_BYTES = 2 * 1024 * 1024;

/**
 * Imports an .ics file into a conversation: parsed in the browser, previewed, then each event is
 * created (encrypted) through the client, its changed occurrences as "this occurrence" updates.
 */
export function ImportDialog({
  open,
  zone,
  conversations,
  onClose,
  onImported,
}: {
  open: boolean;
  zone: string;
  conversations: ConversationSummary[];
  onClose: () => void;
  onImported: (message: string) => void;
}) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const fileId = useId();
  const conversationFieldId = useId();
  const notes = conversations.find((c) => c.kind === 'notes');
  // '' stands for the notes conversation before it exists.
  const [conversationId, setConversationId] = useState(notes?.id ?? '');
  const [parsed, setParsed] = useState<IcsImport | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [failures, setFailures] = useState<string[]>([]);

  function close() {
    setParsed(null);
    setFileError(null);
    setFailures([]);
    setProgress(null);
    onClose();
  }

  async function read(file: File | undefined) {
    setParsed(null);
    setFileError(null);
    setFailures([]);
    if (!file) return;
    if (file.size > MAX_ICS_BYTES) {
      setFileError('That file is larger than 2 MiB; calendars are much smaller.');
      return;
    }
    try {
      const result = parseIcs(await file.text(), zone);
      if (result.events.length === 0) {
        setFileError(
          result.warnings.length > 0
            ? `No event could be read. ${result.warnings.join(' ')}`
            : 'The file has no events.',
        );
        return;
      }
      setParsed(result);
    } catch (error) {
      setFileError(
        error instanceof IcsError
          ? error.message
          : `Could not read the file: ${errorMessage(error)}`,
      );
    }
  }

  async function importAll() {
    if (!parsed || progress) return;
    const calendar = client.calendar;
    const conversation = conversations.find((c) => c.id === conversationId);
    const target = !conversation || conversation.kind === 'notes' ? undefined : conversationId;
    const failed: string[] = [];
    setProgress({ done: 0, total: parsed.events.length });
    for (const [index, event] of parsed.events.entries()) {
      try {
        const { event: created } = await calendar.create(inputFromIcs(event, target));
        for (const override of event.overrides) {
          await calendar.update(
            created.id,
            {
              title: override.title || event.title,
              description: override.description,
              location: override.location,
              allDay: event.allDay,
              start: override.start,
              end: override.end,
            },
            { scope: 'this', recurrenceId: override.recurrenceId },
          );
        }
      } catch (error) {
        failed.push(`“${event.title || 'Untitled event'}”: ${errorMessage(error)}`);
      }
      setProgress({ done: index + 1, total: parsed.events.length });
    }
    void queryClient.invalidateQueries({ queryKey: calendarKeys.all(user.id) });
    setProgress(null);
    const imported = parsed.events.length - failed.length;
    if (failed.length === 0) {
      onImported(`Imported ${imported} ${imported === 1 ? 'event' : 'events'}.`);
      close();
    } else {
      setFailures(failed);
      setParsed(null);
    }
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title="Import an .ics file"
      description="The file is read on this device; its events are encrypted before they are sent."
      size="wide"
    >
      <div className="form">
        <div className="field">
          <label className="field-label" htmlFor={fileId}>
            Calendar file (.ics)
          </label>
          <input
            id={fileId}
            className="field-input"
            type="file"
            accept=".ics,text/calendar"
            data-testid="ics-input"
            onChange={(event) => void read(event.target.files?.[0])}
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={conversationFieldId}>
            Add to conversation
          </label>
          <select
            id={conversationFieldId}
            className="field-input"
            value={conversationId}
            onChange={(event) => setConversationId(event.target.value)}
          >
            {!notes && <option value="">Only me (private)</option>}
            {conversations.map((c) => (
              <option key={c.id} value={c.id}>
                {c.kind === 'notes' ? 'Only me (private)' : c.title}
              </option>
            ))}
          </select>
        </div>
        {fileError && <ErrorAlert>{fileError}</ErrorAlert>}
        {failures.length > 0 && (
          <ErrorAlert>
            {failures.length === 1 ? 'One event' : `${failures.length} events`} could not be
            imported: {failures.join('; ')}
          </ErrorAlert>
        )}
        {parsed && (
          <div className="calendar-import-preview">
            <p>
              <strong>
                {parsed.events.length} {parsed.events.length === 1 ? 'event' : 'events'}
              </strong>{' '}
              to import:
            </p>
            <ul aria-label="Events in the file">
              {parsed.events.slice(0, 50).map((event) => (
                <li key={event.uid}>
                  <strong>{event.title || 'Untitled event'}</strong> · {formatWhen(event, zone)}
                  {event.rrule ? ' · repeats' : ''}
                  {event.overrides.length > 0
                    ? ` · ${event.overrides.length} changed ${event.overrides.length === 1 ? 'occurrence' : 'occurrences'}`
                    : ''}
                  {event.exdates.length > 0 ? ` · ${event.exdates.length} skipped` : ''}
                </li>
              ))}
              {parsed.events.length > 50 && <li>…and {parsed.events.length - 50} more</li>}
            </ul>
            {parsed.warnings.length > 0 && (
              <ul className="warning-list" aria-label="Problems in the file">
                {parsed.warnings.map((warning) => (
                  <li key={warning}>{warning}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {progress && (
          <p role="status">
            Importing {progress.done} of {progress.total}…
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={close}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-primary"
            aria-disabled={!parsed || progress !== null || undefined}
            onClick={() => void importAll()}
          >
            {parsed
              ? `Import ${parsed.events.length} ${parsed.events.length === 1 ? 'event' : 'events'}`
              : 'Import'}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
