import type { ServerEvent } from '@securechat/api';
import { fromHex, randomBytes, toHex, type Content } from '@securechat/crypto';
import type { ApiClient } from './client.ts';
import type { MessageRecord } from './e2ee/local-state.ts';

/**
 * End-to-end encrypted calendar events (§3.11). Every revision of an event is a `calendar`
 * message in its conversation, encrypted and signed with §3.6: its title, description, location
 * and notes, plus a copy of the metadata the server reads (times, zone, rule, exceptions,
 * attendees, reminders, revision). The server keeps that metadata to answer range queries,
 * free/busy and reminders; a client shows an event only after the content decrypted, its
 * signature verified, the sender is the organizer, and the server's metadata equals the signed
 * copy. Answers (RSVP) are messages of the attendee's, checked the same way.
 */

/** An attendee's answer. */
export type RsvpStatus = 'accepted' | 'tentative' | 'declined' | 'needs-action';
/** Which occurrences a change applies to. */
export type CalendarScope = 'this' | 'following' | 'all';

/**
 * A new event. Timed: `start`/`end` are UTC instants `YYYY-MM-DDTHH:mm:ssZ`. All-day
 * (`allDay: true`): dates `YYYY-MM-DD`, `end` exclusive. Recurrence expands in `timeZone`.
 */
export interface CalendarEventInput {
  /** Omitted: a private event, in the user's notes conversation. */
  conversationId?: string;
  title: string;
  description?: string;
  location?: string;
  notes?: string;
  allDay: boolean;
  start: string;
  end: string;
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: string;
  /** An RFC 5545 RRULE value without `RRULE:`, e.g. `FREQ=WEEKLY;BYDAY=MO`. */
  rrule?: string | null;
  /** Recurrence ids (original starts, in the start's format) left out. */
  exdates?: string[];
  /** Invited user ids (members of the conversation; the organizer is implicit). */
  attendees?: string[];
  /** Minutes before the start. */
  reminders?: number[];
}

/** What a change may set. */
export type CalendarEventChanges = Partial<Omit<CalendarEventInput, 'conversationId'>>;

export interface CalendarAttendee {
  userId: string;
  username: string;
  /**
   * The answer, as signed by the attendee ('needs-action' when none is verified): for the series,
   * or, in a {@link CalendarOccurrence}, for that occurrence (its own answer if there is one).
   */
  status: RsvpStatus;
  comment: string | null;
  /** Answers for single occurrences of a series, each signed; they decide there over `status`. */
  occurrences: CalendarOccurrenceAnswer[];
}

/** An attendee's answer for one occurrence of a series. */
export interface CalendarOccurrenceAnswer {
  recurrenceId: string;
  /**
   * The occurrence the attendee signed the answer for: `recurrenceId`, unless a move of the whole
   * series carried the answer along, or it was given for the series this one split off from (the
   * organizer signs where each one went).
   */
  answeredFor: string;
  status: RsvpStatus;
  comment: string | null;
}

interface CalendarContentFields {
  title: string;
  description: string;
  location: string;
  notes: string;
}

interface CalendarTimesFields {
  allDay: boolean;
  start: string;
  end: string;
  timeZone: string;
}

/** One occurrence changed on its own (RFC 5545 RECURRENCE-ID). */
export interface CalendarOverride extends CalendarContentFields, CalendarTimesFields {
  recurrenceId: string;
  revision: number;
}

/** A decrypted, verified event (a single event or a series). */
export interface CalendarEvent extends CalendarContentFields, CalendarTimesFields {
  id: string;
  conversationId: string;
  organizer: { id: string; username: string };
  revision: number;
  rrule: string | null;
  exdates: string[];
  reminders: number[];
  /** The invited users (not the organizer). */
  attendees: CalendarAttendee[];
  overrides: CalendarOverride[];
}

/** One occurrence to show. */
export interface CalendarOccurrence extends CalendarContentFields, CalendarTimesFields {
  eventId: string;
  conversationId: string;
  /** The occurrence's original start; null when the event does not recur. */
  recurrenceId: string | null;
  organizer: { id: string; username: string };
  attendees: CalendarAttendee[];
  myStatus: RsvpStatus | 'organizer';
  reminders: number[];
  rrule: string | null;
  /** Changed on its own. */
  overridden: boolean;
  revision: number;
}

/** One of my events overlapping the one created or accepted. */
export interface CalendarConflict {
  eventId: string;
  conversationId: string;
  start: string;
  end: string;
  /** Null when this device cannot read it. */
  title: string | null;
}

/** An event that failed a check: never shown as an event. */
export interface CalendarRejection {
  eventId: string;
  conversationId: string;
  reason: string;
}

/** What a chat shows for a calendar message (an event card). */
export interface CalendarCard {
  eventId: string;
  revision: number;
  deleted: boolean;
  recurrenceId: string | null;
  title: string;
  allDay: boolean;
  start: string;
  end: string;
  timeZone: string;
  rrule: string | null;
  location: string;
  /**
   * For an occurrence changed on its own: the series revision whose move carried it to its new
   * date, when that is why this revision was sent (null otherwise). Chats fold such cards into
   * that revision's card.
   */
  movedWith: number | null;
}

/** A reminder turned into what a notification shows. */
export type CalendarReminder = Omit<Extract<ServerEvent, { type: 'calendar.reminder' }>, 'type'> & {
  /** Null when the event could not be read or verified. */
  title: string | null;
};

/** Input a client can tell is wrong before anything is sent; `fieldErrors` by field. */
export class CalendarInputError extends TypeError {
  constructor(
    message: string,
    readonly fieldErrors: Record<string, string[]>,
  ) {
    super(message);
    this.name = 'CalendarInputError';
  }
}

// -------------------------------------------------------------------------------------------------
// The signed metadata

/** The server-readable facts of a revision, as signed inside its encrypted content. */
interface SignedMeta {
  v: 1;
  eventId: string;
  conversationId: string;
  organizerId: string;
  recurrenceId: string | null;
  revision: number;
  allDay: boolean;
  start: string;
  end: string;
  timeZone: string;
  rrule: string | null;
  exdates: string[];
  attendees: string[];
  reminders: number[];
}

/** One encoding for signing and comparing: fixed key order, sets sorted. */
function canonicalMeta(m: SignedMeta): string {
  return JSON.stringify([
    m.v,
    m.eventId,
    m.conversationId,
    m.organizerId,
    m.recurrenceId,
    m.revision,
    m.allDay,
    m.start,
    m.end,
    m.timeZone,
    m.rrule,
    [...m.exdates].sort(),
    [...m.attendees].sort(),
    [...m.reminders].sort((a, b) => a - b),
  ]);
}

function parseMeta(text: string | undefined): SignedMeta | null {
  if (!text) return null;
  try {
    const a = JSON.parse(text) as unknown[];
    if (!Array.isArray(a) || a.length !== 14 || a[0] !== 1) return null;
    return {
      v: 1,
      eventId: String(a[1]),
      conversationId: String(a[2]),
      organizerId: String(a[3]),
      recurrenceId: a[4] === null ? null : String(a[4]),
      revision: Number(a[5]),
      allDay: a[6] === true,
      start: String(a[7]),
      end: String(a[8]),
      timeZone: String(a[9]),
      rrule: a[10] === null ? null : String(a[10]),
      exdates: (a[11] as unknown[]).map(String),
      attendees: (a[12] as unknown[]).map(String),
      reminders: (a[13] as unknown[]).map(Number),
    };
  } catch {
    return null;
  }
}

/** The chat card of a calendar message, or undefined for answers and malformed content. */
export function calendarCardOf(content: Content | null): CalendarCard | undefined {
  if (content?.type !== 'calendar' || content.fields.kind !== 'event') return undefined;
  const meta = parseMeta(content.fields.meta);
  if (!meta || meta.eventId !== toHex(content.eventId)) return undefined;
  return {
    eventId: meta.eventId,
    revision: content.revision,
    deleted: content.deleted,
    recurrenceId: meta.recurrenceId,
    title: content.fields.title ?? '',
    allDay: meta.allDay,
    start: meta.start,
    end: meta.end,
    timeZone: meta.timeZone,
    rrule: meta.rrule,
    location: content.fields.location ?? '',
    movedWith: meta.recurrenceId !== null ? revisionField(content.fields.movedWith) : null,
  };
}

/** A revision number sent as a content field, or null when absent or not one. */
function revisionField(value: string | undefined): number | null {
  if (value === undefined || !/^[1-9]\d{0,9}$/.test(value)) return null;
  const revision = Number(value);
  return revision <= 0xffffffff ? revision : null;
}

/**
 * An answer for a single occurrence that a move of the whole series carried along: the occurrence
 * it was answered for, and the one it counts for now.
 */
type AnswerMove = [answeredFor: string, recurrenceId: string];

/**
 * An answer given for the series it was split from ("this and following"), which counts for this
 * one: the message that carries it, and the occurrence it counts for (null: the series).
 */
type AnswerCarry = [ref: string, recurrenceId: string | null];

/** An occurrence changed on its own, moving with its series to another recurrence id. */
interface OverrideMove {
  from: string;
  to: string;
  times: CalendarTimesFields;
  o: CalendarOverride;
}

/** What a series revision signs about where answers count. */
interface SignedAnswers {
  answersMoved: AnswerMove[];
  answersCarried: AnswerCarry[];
  /**
   * The revision that last moved the series' start: an answer for one occurrence given before it
   * counts only where `answersMoved` says it went, even where its time is an occurrence's now.
   */
  movedAt: number;
}

/** JSON pairs of a revision's field, each checked by `valid` (none when absent or malformed). */
function parsePairs<T extends [unknown, unknown]>(
  value: string | undefined,
  valid: (pair: unknown[]) => boolean,
): T[] {
  if (!value) return [];
  try {
    const pairs = JSON.parse(value) as unknown;
    return Array.isArray(pairs) &&
      pairs.every((p) => Array.isArray(p) && p.length === 2 && valid(p))
      ? (pairs as T[])
      : [];
  } catch {
    return [];
  }
}

/** The `answersMoved` field of a series revision. */
const parseAnswerMoves = (value: string | undefined) =>
  parsePairs<AnswerMove>(value, (p) => p.every((x) => typeof x === 'string'));

/** The `answersCarried` field of a series revision. */
const parseAnswerCarries = (value: string | undefined) =>
  parsePairs<AnswerCarry>(
    value,
    ([ref, at]) => typeof ref === 'string' && (at === null || typeof at === 'string'),
  );

/** Where a verified answer came from: its message, and whether it was carried from another. */
interface AnswerSource {
  ref: string;
  carried: boolean;
  /** The series revision the attendee answered. */
  revision: number;
  /** The attendee's device that signed it (hex). */
  device: string;
  /** Its place in that device's chain; null for records stored before places were kept. */
  at: [epoch: number, index: number] | null;
}

/** A verified answer of an event, as its next revision needs it. */
interface VerifiedAnswer extends AnswerSource {
  userId: string;
  /** The occurrence it counts for (null: the series). */
  recurrenceId: string | null;
  /** The occurrence it was given for (null: the series). */
  answeredFor: string | null;
}

interface AnswerSources {
  answers: VerifiedAnswer[];
  /** The revision that last moved the series' start (0: none has). */
  movedAt: number;
}

/** Whether a message is an answer to an event (folded into the event, not shown in chat). */
export function isCalendarAnswer(content: Content | null): boolean {
  return content?.type === 'calendar' && content.fields.kind === 'rsvp';
}

// -------------------------------------------------------------------------------------------------
// Input checks (the server checks again; these keep a refused event out of the chat)

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}
function validInstant(value: string): boolean {
  return INSTANT.test(value) && validDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));
}
function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
function fail(field: string, message: string): never {
  throw new CalendarInputError(message, { [field]: [message] });
}

function checkTimes(t: CalendarTimesFields): void {
  if (!t.timeZone || !validTimeZone(t.timeZone)) fail('timeZone', 'Unknown time zone');
  const valid = t.allDay ? validDate : validInstant;
  const format = t.allDay ? 'a date (YYYY-MM-DD)' : 'a UTC time (YYYY-MM-DDTHH:mm:ssZ)';
  if (!valid(t.start)) fail('start', `Start must be ${format}`);
  if (!valid(t.end)) fail('end', `End must be ${format}`);
  const ms = (v: string) => Date.parse(t.allDay ? `${v}T00:00:00Z` : v);
  if (ms(t.end) <= ms(t.start)) fail('end', 'End must be after start');
}

interface SeriesFields extends CalendarContentFields, CalendarTimesFields {
  rrule: string | null;
  exdates: string[];
  attendees: string[];
  reminders: number[];
}

/** A series' schedule: its times, recurrence, attendees' ids and reminders. */
type SeriesSchedule = Omit<SeriesFields, keyof CalendarContentFields>;

/** The schedule of an event, a DTO or a series, with its attendees given as ids. */
function scheduleOf(s: Omit<SeriesSchedule, 'attendees'>, attendees: string[]): SeriesSchedule {
  return {
    allDay: s.allDay,
    start: s.start,
    end: s.end,
    timeZone: s.timeZone,
    rrule: s.rrule,
    exdates: s.exdates,
    attendees,
    reminders: s.reminders,
  };
}

function normalizeRule(rule: string | null | undefined): string | null {
  if (!rule) return null;
  const trimmed = rule.trim().replace(/^RRULE:/i, '');
  return trimmed === '' ? null : trimmed.toUpperCase();
}

function checkSeries(s: SeriesFields, organizerId: string): void {
  checkTimes(s);
  if (s.attendees.includes(organizerId))
    fail('attendees', 'The organizer is not listed as an attendee');
  if (s.reminders.some((m) => !Number.isInteger(m) || m < 0 || m > 40_320))
    fail('reminders', 'Reminders are whole minutes, from 0 to 40320 before the start');
  if (s.rrule !== null && !/^FREQ=|;FREQ=/.test(s.rrule))
    fail('rrule', 'A recurrence rule needs FREQ, such as FREQ=WEEKLY');
}

// -------------------------------------------------------------------------------------------------
// Times helpers

const DAY_MS = 86_400_000;
const instantString = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const dateMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
const dateString = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Shifts an event time by `deltaMs` (whole days for all-day dates): what a drag does. To move
 * a whole series by dragging one occurrence, shift the series' `start` and `end` by the drag.
 */
export function shiftCalendarTime(value: string, allDay: boolean, deltaMs: number): string {
  return shift(value, allDay, deltaMs);
}

function shift(value: string, allDay: boolean, deltaMs: number): string {
  return allDay ? dateString(dateMs(value) + deltaMs) : instantString(Date.parse(value) + deltaMs);
}
function toMs(value: string, allDay: boolean): number {
  return allDay ? dateMs(value) : Date.parse(value);
}

/** The rule ended just before `recurrenceId` (UNTIL replaces COUNT and any earlier UNTIL). */
function ruleEndingBefore(rule: string, recurrenceId: string, allDay: boolean): string {
  const parts = rule.split(';').filter((p) => !/^(UNTIL|COUNT)=/.test(p));
  const until = allDay
    ? dateString(dateMs(recurrenceId) - DAY_MS).replaceAll('-', '')
    : instantString(Date.parse(recurrenceId) - 1000).replace(/[-:]/g, '');
  return [...parts, `UNTIL=${until}`].join(';');
}

const newId = () => toHex(randomBytes(16));

// -------------------------------------------------------------------------------------------------
// The client section

type EventDto = Awaited<ReturnType<ApiClient['calendar']['byId']['query']>>;
type MessageDto = NonNullable<EventDto['content']>;
type ServerConflict = { eventId: string; conversationId: string; start: string; end: string };

export interface CalendarDeps {
  /** The typed API as it is now (it changes with the session token). */
  api(): ApiClient;
  /** The signed-in user's id (sets up the engine first). */
  me(): Promise<{ id: string; username: string }>;
  /** Decrypts a message once (under its conversation's lock), as the chat does. */
  receive(dto: MessageDto): Promise<MessageRecord>;
  /** Encrypts and sends content to a conversation; a `silent` one does not count as unread. */
  send(
    conversationId: string,
    content: Content,
    options?: { silent?: boolean },
  ): Promise<MessageRecord>;
  /** Erases one of this user's messages (a card for an event the server refused). */
  unsend(conversationId: string, messageId: string): Promise<void>;
  /** The user's notes conversation, where private events live. */
  notesId(): Promise<string>;
  /** The highest revision of each event this device has verified (to refuse a rollback). */
  revisions: {
    get(eventId: string): Promise<number | undefined>;
    set(eventId: string, revision: number): Promise<void>;
  };
  /**
   * Per event, attendee and series or occurrence (`key`), the latest answer this device has
   * verified from each of the attendee's devices, as its place in that device's chain.
   */
  answerOrder: {
    get(key: string): Promise<AnswerOrder | undefined>;
    set(key: string, order: AnswerOrder): Promise<void>;
  };
}

/** Device id → the epoch and chain index of its latest answer seen (see `answerOrder`). */
export type AnswerOrder = Record<string, [epoch: number, index: number]>;

/** Whether place `a` comes before place `b` in one device's chain (epoch, then index). */
const chainBefore = ([epochA, indexA]: [number, number], [epochB, indexB]: [number, number]) =>
  epochA < epochB || (epochA === epochB && indexA < indexB);

/**
 * An answer's `after` field: the answers of the attendee's other devices that the answering
 * device had verified where this one counts (the series: every place), as
 * `device:epoch:index`, comma-separated. The answer replaces them, so a verifier that has seen it
 * refuses them afterwards, as it refuses a device's own earlier answers.
 */
const AFTER_ENTRY = /^([0-9a-f]{32}):(\d{1,10}):(\d{1,10})$/;
const MAX_AFTER_ENTRIES = 256;

function formatAfter(places: Map<string, [number, number]>): string {
  return [...places]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([device, [epoch, index]]) => `${device}:${epoch}:${index}`)
    .join(',');
}

/** The places an `after` field names; null when it is malformed. */
function parseAfter(value: string | undefined): Map<string, [number, number]> | null {
  const places = new Map<string, [number, number]>();
  if (value === undefined || value === '') return places;
  const entries = value.split(',');
  if (entries.length > MAX_AFTER_ENTRIES) return null;
  for (const entry of entries) {
    const match = AFTER_ENTRY.exec(entry);
    if (!match) return null;
    const place: [number, number] = [Number(match[2]), Number(match[3])];
    if (place.some((n) => n > 0xffffffff) || places.has(match[1]!)) return null;
    places.set(match[1]!, place);
  }
  return places;
}

/** `client.calendar`: see {@link CalendarEvent} and friends. */
export interface CalendarApi {
  /** Creates an event (private when no conversation is given); returns my overlapping events. */
  create(
    input: CalendarEventInput,
  ): Promise<{ event: CalendarEvent; conflicts: CalendarConflict[] }>;
  /**
   * Changes an event (organizer only): all of it, one occurrence ('this'), or from an occurrence
   * on ('following', which starts a new series: its id is returned). Occurrences are named by
   * `recurrenceId`.
   */
  update(
    eventId: string,
    changes: CalendarEventChanges,
    options?: { scope?: CalendarScope; recurrenceId?: string },
  ): Promise<{ eventId: string; conflicts: CalendarConflict[] }>;
  /** Deletes an event, one occurrence of it, or it from an occurrence on. */
  delete(
    eventId: string,
    options?: { scope?: CalendarScope; recurrenceId?: string },
  ): Promise<void>;
  /**
   * Occurrences in a range (at most 366 days): my calendar, or one conversation's. Events that
   * fail a check are listed in `rejected`, never as occurrences.
   */
  list(range: { from: Date; to: Date; conversationId?: string }): Promise<{
    occurrences: CalendarOccurrence[];
    rejected: CalendarRejection[];
  }>;
  /** One event, decrypted and verified (throws when it fails a check). */
  get(eventId: string): Promise<CalendarEvent>;
  /**
   * Answers an invitation: the whole series, or one occurrence (`recurrenceId`). An answer for
   * the series replaces my answers for single occurrences. Accepting returns my overlapping
   * events.
   */
  rsvp(
    eventId: string,
    status: RsvpStatus,
    options?: { comment?: string; recurrenceId?: string },
  ): Promise<{ conflicts: CalendarConflict[] }>;
  /**
   * Busy times (accepted or organized events; no content) of people I share a conversation with.
   * `excludeEventId` leaves out an event I can see, so moving it does not show its own times.
   */
  freeBusy(
    userIds: string[],
    range: { from: Date; to: Date },
    options?: { excludeEventId?: string },
  ): Promise<{ userId: string; busy: { start: Date; end: Date }[] }[]>;
  /** What a notification shows for a reminder event: the decrypted title and the start. */
  reminderNotification(reminder: Omit<CalendarReminder, 'title'>): Promise<CalendarReminder>;
}

/** Only an event's organizer changes or deletes it (the server refuses others too). */
export class CalendarForbiddenError extends Error {
  constructor(message = 'Only the organizer can change this event') {
    super(message);
    this.name = 'CalendarForbiddenError';
  }
}

/** An event's failure to verify. */
export class CalendarVerificationError extends Error {
  constructor(
    readonly eventId: string,
    readonly reason: string,
  ) {
    super(`Calendar event ${eventId} failed verification: ${reason}`);
    this.name = 'CalendarVerificationError';
  }
}

export function createCalendarApi(deps: CalendarDeps): CalendarApi {
  // Where each verified event's answers came from, for signing its next revision.
  const sources = new WeakMap<CalendarEvent, AnswerSources>();
  async function open(dto: MessageDto | null): Promise<MessageRecord | null> {
    if (!dto) return null;
    return deps.receive(dto);
  }

  /** Decrypts the messages of events oldest first, so each sender's chain advances in order. */
  async function openAll(events: EventDto[]): Promise<void> {
    const dtos = new Map<string, MessageDto>();
    for (const e of events) {
      for (const dto of [
        e.content,
        ...e.overrides.map((o) => o.content),
        ...e.attendees.flatMap((a) => [a.rsvp, ...a.occurrences.map((o) => o.rsvp)]),
      ])
        if (dto) dtos.set(`${dto.conversationId}/${dto.clientMessageId}`, dto);
    }
    for (const dto of [...dtos.values()].sort((a, b) => a.seq - b.seq)) await deps.receive(dto);
  }

  /**
   * Decrypted content of a revision, checked against the server's metadata, with its raw fields;
   * or the reason not.
   */
  async function openRevision(
    event: EventDto,
    dto: MessageDto | null,
    expected: SignedMeta,
    signedByDevice: string,
  ): Promise<{ content: CalendarContentFields; fields: Record<string, string> } | string> {
    const record = await open(dto);
    if (!record) return 'content missing';
    const content = record.content;
    if (!content || content.type !== 'calendar') return 'content could not be decrypted';
    if (record.senderUserId !== event.organizer.id || record.senderDeviceId !== signedByDevice)
      return 'not signed by the organizer';
    if (toHex(content.eventId) !== event.id || content.revision !== expected.revision)
      return 'content is for another event or revision';
    if (content.deleted || content.fields.kind !== 'event') return 'content is not an event';
    const meta = parseMeta(content.fields.meta);
    if (!meta || canonicalMeta(meta) !== canonicalMeta(expected))
      return "the server's metadata differs from what the organizer signed";
    return {
      content: {
        title: content.fields.title ?? '',
        description: content.fields.description ?? '',
        location: content.fields.location ?? '',
        notes: content.fields.notes ?? '',
      },
      fields: content.fields,
    };
  }

  async function verify(event: EventDto): Promise<CalendarEvent> {
    const base: SignedMeta = {
      v: 1,
      eventId: event.id,
      conversationId: event.conversationId,
      organizerId: event.organizer.id,
      recurrenceId: null,
      revision: event.revision,
      ...scheduleOf(
        event,
        event.attendees.map((a) => a.userId),
      ),
    };
    const opened = await openRevision(event, event.content, base, event.signedByDevice);
    if (typeof opened === 'string') throw new CalendarVerificationError(event.id, opened);
    const { content } = opened;
    const answersMoved = new Set(
      parseAnswerMoves(opened.fields.answersMoved).map(([from, to]) => `${from} ${to}`),
    );
    const answersCarried = new Set(
      parseAnswerCarries(opened.fields.answersCarried).map(([ref, at]) => `${ref} ${at ?? ''}`),
    );
    const movedAt = revisionField(opened.fields.movedAt) ?? 0;
    // A correctly signed but older revision is the server showing the past: refused.
    const seen = (await deps.revisions.get(event.id)) ?? 0;
    if (event.revision < seen)
      throw new CalendarVerificationError(event.id, 'older than a revision this device has seen');
    if (event.revision > seen) await deps.revisions.set(event.id, event.revision);
    const overrides: CalendarOverride[] = [];
    for (const o of event.overrides) {
      const times = { allDay: o.allDay, start: o.start, end: o.end, timeZone: o.timeZone };
      const opened = await openRevision(
        event,
        o.content,
        {
          ...base,
          recurrenceId: o.recurrenceId,
          revision: o.revision,
          ...times,
          rrule: null,
          exdates: [],
          attendees: [],
          reminders: [],
        },
        o.signedByDevice,
      );
      if (typeof opened === 'string')
        throw new CalendarVerificationError(event.id, `occurrence ${o.recurrenceId}: ${opened}`);
      overrides.push({
        recurrenceId: o.recurrenceId,
        revision: o.revision,
        ...times,
        ...opened.content,
      });
    }
    // Where answers count, the latest this device has seen from each attendee's device: the series,
    // and each occurrence until the series next moves (a move may legitimately bring an earlier
    // answer to an occurrence, as the organizer signs). Read once per place.
    const orderKey = (userId: string, recurrenceId: string | undefined) =>
      recurrenceId === undefined
        ? `${event.id}/${userId}/`
        : `${event.id}/${userId}/${recurrenceId}/${movedAt}`;
    const orders = new Map<string, { order: AnswerOrder; changed: boolean }>();
    const orderAt = async (key: string) => {
      let entry = orders.get(key);
      if (!entry) {
        entry = { order: { ...(await deps.answerOrder.get(key)) }, changed: false };
        orders.set(key, entry);
      }
      return entry;
    };
    // An answer counts only as its attendee signed it: with this status, for this event, and
    // for the series or for this one occurrence (so none can stand in for another), or for the
    // occurrence a move of the whole series carried it to, as the organizer signed. An answer for
    // one occurrence given before the series last moved counts only there: its time may now be
    // another occurrence's. An answer given for the series this one split from counts where the
    // organizer signed it went. One that comes before an answer this device has seen from the same
    // device of the attendee, for the same place or (for an occurrence) for the whole series,
    // which replaces it, is the server showing the past: it does not count. Nor does one that an
    // answer seen from another device of theirs names in its `after` field.
    async function answer(
      userId: string,
      claimed: { status: RsvpStatus; rsvp: MessageDto | null },
      recurrenceId: string | undefined,
    ): Promise<{
      status: RsvpStatus;
      comment: string | null;
      answeredFor: string | undefined;
      source: AnswerSource;
    } | null> {
      const record = await open(claimed.rsvp);
      const content = record?.content;
      if (
        !record ||
        content?.type !== 'calendar' ||
        content.fields.kind !== 'rsvp' ||
        record.senderUserId !== userId ||
        content.fields.status !== claimed.status
      )
        return null;
      const answeredFor = content.fields.recurrenceId;
      const ref = record.clientMessageId;
      const carried =
        record.conversationId === event.conversationId &&
        (answeredFor === undefined) === (recurrenceId === undefined) &&
        answersCarried.has(`${ref} ${recurrenceId ?? ''}`);
      const whereGiven =
        answeredFor === recurrenceId && (recurrenceId === undefined || content.revision >= movedAt);
      const whereMoved =
        answeredFor !== undefined &&
        recurrenceId !== undefined &&
        answersMoved.has(`${answeredFor} ${recurrenceId}`);
      const ofThisEvent = toHex(content.eventId) === event.id;
      if (!carried && !(ofThisEvent && (whereGiven || whereMoved))) return null;
      const replaced = parseAfter(content.fields.after);
      if (!replaced) return null;
      const device = record.senderDeviceId;
      const at: [number, number] | null = record.chain
        ? [record.chain.epoch, record.chain.index]
        : null;
      const here = await orderAt(orderKey(userId, recurrenceId));
      if (at) {
        const places = [here];
        if (recurrenceId !== undefined) places.push(await orderAt(orderKey(userId, undefined)));
        if (places.some(({ order }) => order[device] && chainBefore(at, order[device])))
          return null;
        const seen = here.order[device];
        if (!seen || chainBefore(seen, at)) {
          here.order[device] = at;
          here.changed = true;
        }
      }
      // What it replaces on the attendee's other devices: refused from now on, up to and
      // including the place named (so the mark is the place just after it).
      for (const [other, [epoch, index]] of replaced) {
        if (other === device) continue;
        const mark: [number, number] = [epoch, index + 1];
        const seen = here.order[other];
        if (!seen || chainBefore(seen, mark)) {
          here.order[other] = mark;
          here.changed = true;
        }
      }
      return {
        status: claimed.status,
        comment: content.fields.comment || null,
        answeredFor,
        source: { ref, carried, revision: content.revision, device, at },
      };
    }
    const answers: VerifiedAnswer[] = [];
    const attendees: CalendarAttendee[] = [];
    for (const a of event.attendees) {
      // The series first: its answer, once seen, outdates the same device's earlier answers for
      // single occurrences.
      const series = await answer(a.userId, a, undefined);
      const occurrences: CalendarOccurrenceAnswer[] = [];
      for (const o of a.occurrences) {
        const verified = await answer(a.userId, o, o.recurrenceId);
        if (!verified) continue;
        const { source, ...rest } = verified;
        // Verified for this occurrence, so it names one.
        const answeredFor = rest.answeredFor!;
        occurrences.push({ ...rest, recurrenceId: o.recurrenceId, answeredFor });
        answers.push({ ...source, userId: a.userId, recurrenceId: o.recurrenceId, answeredFor });
      }
      if (series)
        answers.push({ ...series.source, userId: a.userId, recurrenceId: null, answeredFor: null });
      attendees.push({
        userId: a.userId,
        username: a.username,
        status: series?.status ?? 'needs-action',
        comment: series?.comment ?? null,
        occurrences,
      });
    }
    for (const [key, { order, changed }] of orders)
      if (changed) await deps.answerOrder.set(key, order);
    const verified: CalendarEvent = {
      id: event.id,
      conversationId: event.conversationId,
      organizer: event.organizer,
      revision: event.revision,
      ...content,
      allDay: event.allDay,
      start: event.start,
      end: event.end,
      timeZone: event.timeZone,
      rrule: event.rrule,
      exdates: event.exdates,
      reminders: event.reminders,
      attendees,
      overrides,
    };
    sources.set(verified, { answers, movedAt });
    return verified;
  }

  async function get(eventId: string): Promise<CalendarEvent> {
    const dto = await deps.api().calendar.byId.query({ eventId });
    await openAll([dto]);
    return verify(dto);
  }

  async function titled(conflicts: ServerConflict[]): Promise<CalendarConflict[]> {
    const titles = new Map<string, string | null>();
    for (const c of conflicts) {
      if (titles.has(c.eventId)) continue;
      try {
        titles.set(c.eventId, (await get(c.eventId)).title);
      } catch {
        titles.set(c.eventId, null);
      }
    }
    return conflicts.map((c) => ({ ...c, title: titles.get(c.eventId) ?? null }));
  }

  function seriesOf(event: CalendarEvent): SeriesFields {
    return {
      title: event.title,
      description: event.description,
      location: event.location,
      notes: event.notes,
      ...scheduleOf(
        event,
        event.attendees.map((a) => a.userId),
      ),
    };
  }

  function applyChanges(series: SeriesFields, changes: CalendarEventChanges): SeriesFields {
    const next: SeriesFields = { ...series };
    for (const key of Object.keys(changes) as (keyof CalendarEventChanges)[]) {
      const value = changes[key];
      if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
    }
    next.rrule = normalizeRule(next.rrule);
    next.exdates = [...new Set(next.exdates)].sort();
    next.attendees = [...new Set(next.attendees)].sort();
    next.reminders = [...new Set(next.reminders)].sort((a, b) => a - b);
    return next;
  }

  /**
   * Sends a revision's encrypted content; returns its message id. `movedWith` marks an occurrence
   * carried along by that revision's move of the whole series: the chat folds it into the move's
   * card, so it is sent silent (not counted as unread). `answersMoved` and `answersCarried` (a
   * series revision) sign where answers count when that is not where they were given.
   */
  async function sendRevision(
    meta: SignedMeta,
    fields: CalendarContentFields,
    options: { deleted?: boolean; movedWith?: number } & Partial<SignedAnswers> = {},
  ): Promise<string> {
    const {
      deleted = false,
      movedWith,
      answersMoved = [],
      answersCarried = [],
      movedAt = 0,
    } = options;
    const record = await deps.send(
      meta.conversationId,
      {
        type: 'calendar',
        eventId: fromHex(meta.eventId, 16),
        revision: meta.revision,
        deleted,
        fields: {
          kind: 'event',
          title: fields.title,
          description: fields.description,
          location: fields.location,
          notes: fields.notes,
          meta: canonicalMeta(meta),
          ...(movedWith === undefined ? {} : { movedWith: String(movedWith) }),
          ...(answersMoved.length === 0 ? {} : { answersMoved: JSON.stringify(answersMoved) }),
          ...(answersCarried.length === 0
            ? {}
            : { answersCarried: JSON.stringify(answersCarried) }),
          ...(movedAt === 0 ? {} : { movedAt: String(movedAt) }),
        },
      },
      { silent: movedWith !== undefined },
    );
    return record.clientMessageId;
  }

  function metaOf(
    eventId: string,
    conversationId: string,
    organizerId: string,
    revision: number,
    s: SeriesFields,
  ): SignedMeta {
    return {
      v: 1,
      eventId,
      conversationId,
      organizerId,
      recurrenceId: null,
      revision,
      ...scheduleOf(s, s.attendees),
    };
  }

  /**
   * Where the attendees' answers count in the event's next revision `revision`, wherever that is
   * not where they were given or they were given before the series last moved: answers for single
   * occurrences each at the occurrence `to` takes it to (when this revision moves the series), and
   * answers carried from the series this one split from. Only those of the attendees `keep` keeps.
   */
  function answersKept(
    event: CalendarEvent,
    revision: number,
    keep: (userId: string) => boolean,
    to?: (recurrenceId: string) => string,
  ): SignedAnswers {
    const verified = sources.get(event);
    const movedAt = to ? revision : (verified?.movedAt ?? 0);
    const moves = new Map<string, AnswerMove>();
    const carries: AnswerCarry[] = [];
    for (const a of verified?.answers ?? []) {
      if (!keep(a.userId)) continue;
      const at = a.recurrenceId !== null && to ? to(a.recurrenceId) : a.recurrenceId;
      if (a.carried) carries.push([a.ref, at]);
      else if (at !== null && (at !== a.answeredFor || a.revision < movedAt))
        moves.set(`${a.answeredFor} ${at}`, [a.answeredFor!, at]);
    }
    return {
      answersMoved: [...moves.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, m]) => m),
      answersCarried: carries.sort(([a], [b]) => a.localeCompare(b)),
      movedAt,
    };
  }

  /**
   * The answers a series split off from `event` at `recurrenceId` carries along, for the attendees
   * `keep` keeps: each one's answer for the series, and answers for single occurrences from the
   * split on, at the occurrence `to` takes each to.
   */
  function answersSplitOff(
    event: CalendarEvent,
    recurrenceId: string,
    keep: (userId: string) => boolean,
    to: ((recurrenceId: string) => string) | null,
  ): AnswerCarry[] {
    const from = toMs(recurrenceId, event.allDay);
    const carries: AnswerCarry[] = [];
    for (const a of sources.get(event)?.answers ?? []) {
      if (!keep(a.userId)) continue;
      if (a.recurrenceId === null) carries.push([a.ref, null]);
      else if (to && toMs(a.recurrenceId, event.allDay) >= from)
        carries.push([a.ref, to(a.recurrenceId)]);
    }
    return carries.sort(([a], [b]) => a.localeCompare(b));
  }

  /**
   * Occurrences changed on their own, taken along by their series' start moving `delta` ms (its
   * all-day flag unchanged): each to the recurrence id it moves to, with its times as far (unless
   * it is not all-day as the series is).
   */
  function overridesMoved(
    overrides: CalendarOverride[],
    allDay: boolean,
    delta: number,
  ): OverrideMove[] {
    return overrides.map((o) => ({
      from: o.recurrenceId,
      to: shift(o.recurrenceId, allDay, delta),
      times:
        o.allDay === allDay
          ? {
              allDay: o.allDay,
              start: shift(o.start, o.allDay, delta),
              end: shift(o.end, o.allDay, delta),
              timeZone: o.timeZone,
            }
          : { allDay: o.allDay, start: o.start, end: o.end, timeZone: o.timeZone },
      o,
    }));
  }

  /**
   * The content of an occurrence changed on its own with `changes` applied, or null where that is
   * just the series' content (`series`).
   */
  function ownContent(
    o: CalendarOverride,
    changes: CalendarEventChanges,
    series: CalendarContentFields,
  ): CalendarContentFields | null {
    const own: CalendarContentFields = {
      title: changes.title ?? o.title,
      description: changes.description ?? o.description,
      location: changes.location ?? o.location,
      notes: changes.notes ?? o.notes,
    };
    return (Object.keys(own) as (keyof CalendarContentFields)[]).some((k) => own[k] !== series[k])
      ? own
      : null;
  }

  /**
   * Re-signs moved occurrences for the series revision `revision` of `eventId` (`series`) that
   * carries them, each as its revision `revisionOf(o)`, pushing each message id onto `refs` as it
   * goes out. Returns them as the API takes them.
   */
  async function sendMoved(
    eventId: string,
    conversationId: string,
    organizerId: string,
    series: SeriesFields,
    revision: number,
    moves: OverrideMove[],
    revisionOf: (o: CalendarOverride) => number,
    refs: string[],
  ) {
    const sent = [];
    for (const { from, to, times, o } of moves) {
      const meta: SignedMeta = {
        ...metaOf(eventId, conversationId, organizerId, revisionOf(o), {
          ...series,
          ...times,
          rrule: null,
          exdates: [],
          attendees: [],
          reminders: [],
        }),
        recurrenceId: to,
      };
      const ref = await sendRevision(meta, o, { movedWith: revision });
      refs.push(ref);
      sent.push({
        from,
        override: { recurrenceId: to, revision: revisionOf(o), ...times, contentRef: ref },
      });
    }
    return sent;
  }

  const wire = (s: SeriesFields, revision: number, contentRef: string) => ({
    ...scheduleOf(s, s.attendees),
    revision,
    contentRef,
  });

  /**
   * Runs a server write after its content went out; a refused write takes its cards back. `refs`
   * is read only on failure, so `write` may add the revisions it sends itself.
   */
  async function withCards<T>(
    conversationId: string,
    refs: string[],
    write: () => Promise<T>,
  ): Promise<T> {
    try {
      return await write();
    } catch (error) {
      for (const ref of refs) await deps.unsend(conversationId, ref).catch(() => {});
      throw error;
    }
  }

  /** The times an occurrence has now (its override's, or the series' shifted to it). */
  function occurrenceTimes(event: CalendarEvent, recurrenceId: string) {
    const override = event.overrides.find((o) => o.recurrenceId === recurrenceId);
    if (override) return { override, times: override as CalendarTimesFields };
    const duration = toMs(event.end, event.allDay) - toMs(event.start, event.allDay);
    const end = event.allDay
      ? dateString(dateMs(recurrenceId) + duration)
      : instantString(Date.parse(recurrenceId) + duration);
    return {
      override: undefined,
      times: { allDay: event.allDay, start: recurrenceId, end, timeZone: event.timeZone },
    };
  }

  /**
   * The rule for the part of a series from `recurrenceId` on: a COUNT is reduced by the
   * occurrences before it (RFC 5545 counts them before EXDATEs apply), found by asking the
   * server to expand the series up to there (within the 366 days a range may span).
   */
  async function remainingRule(event: CalendarEvent, recurrenceId: string): Promise<string> {
    const rule = event.rrule!;
    const count = /(?:^|;)COUNT=(\d+)/.exec(rule);
    if (!count) return rule;
    const fromMs = toMs(event.start, event.allDay);
    const toMsValue = toMs(recurrenceId, event.allDay);
    if (toMsValue - fromMs > 366 * DAY_MS) return rule;
    const listed = await deps.api().calendar.listOccurrences.query({
      from: new Date(fromMs - DAY_MS),
      to: new Date(toMsValue),
      conversationId: event.conversationId,
    });
    const before = new Set(
      [
        ...listed.occurrences.filter((o) => o.eventId === event.id).map((o) => o.recurrenceId),
        ...event.exdates,
      ].filter((id): id is string => id !== null && toMs(id, event.allDay) < toMsValue),
    );
    const left = Math.max(1, Number(count[1]) - before.size);
    return rule.replace(/(^|;)COUNT=\d+/, `$1COUNT=${left}`);
  }

  return {
    async create(input) {
      const me = await deps.me();
      const conversationId = input.conversationId ?? (await deps.notesId());
      const series = applyChanges(
        {
          title: '',
          description: '',
          location: '',
          notes: '',
          allDay: input.allDay,
          start: input.start,
          end: input.end,
          timeZone: input.timeZone,
          rrule: null,
          exdates: [],
          attendees: [],
          reminders: [],
        },
        input,
      );
      checkSeries(series, me.id);
      const eventId = newId();
      const contentRef = await sendRevision(
        metaOf(eventId, conversationId, me.id, 1, series),
        series,
      );
      const result = await withCards(conversationId, [contentRef], () =>
        deps.api().calendar.create.mutate({
          eventId,
          conversationId,
          series: wire(series, 1, contentRef),
        }),
      );
      return { event: await get(eventId), conflicts: await titled(result.conflicts) };
    },

    async update(eventId, changes, options = {}) {
      const me = await deps.me();
      const event = await get(eventId);
      if (event.organizer.id !== me.id) throw new CalendarForbiddenError();
      const scope = event.rrule ? (options.scope ?? 'all') : 'all';
      const { recurrenceId } = options;
      if (scope !== 'all' && !recurrenceId) fail('recurrenceId', 'Name the occurrence to change');
      const current = seriesOf(event);

      if (scope === 'this') {
        const { override, times } = occurrenceTimes(event, recurrenceId!);
        const base = override ?? { ...times, ...event };
        const next = {
          title: changes.title ?? base.title,
          description: changes.description ?? base.description,
          location: changes.location ?? base.location,
          notes: changes.notes ?? base.notes,
          allDay: changes.allDay ?? times.allDay,
          start: changes.start ?? times.start,
          end: changes.end ?? times.end,
          timeZone: changes.timeZone ?? times.timeZone,
        };
        checkTimes(next);
        const revision = (override?.revision ?? 0) + 1;
        const meta: SignedMeta = {
          ...metaOf(eventId, event.conversationId, me.id, revision, {
            ...current,
            ...next,
            rrule: null,
            exdates: [],
            attendees: [],
            reminders: [],
          }),
          recurrenceId: recurrenceId!,
        };
        const contentRef = await sendRevision(meta, next);
        const result = await withCards(event.conversationId, [contentRef], () =>
          deps.api().calendar.update.mutate({
            eventId,
            expectedRevision: event.revision,
            scope: 'this',
            recurrenceId: recurrenceId!,
            override: {
              recurrenceId: recurrenceId!,
              revision,
              allDay: next.allDay,
              start: next.start,
              end: next.end,
              timeZone: next.timeZone,
              contentRef,
            },
          }),
        );
        return { eventId, conflicts: await titled(result.conflicts) };
      }

      if (scope === 'following' && recurrenceId !== event.start) {
        const rid = recurrenceId!;
        const ridMs = toMs(rid, event.allDay);
        const shortened: SeriesFields = {
          ...current,
          rrule: ruleEndingBefore(event.rrule!, rid, event.allDay),
          exdates: current.exdates.filter((d) => toMs(d, event.allDay) < ridMs),
        };
        const { override: splitAt, times } = occurrenceTimes(event, rid);
        const fresh = applyChanges(
          {
            ...current,
            start: times.start,
            end: times.end,
            rrule: await remainingRule(event, rid),
            exdates: current.exdates.filter((d) => toMs(d, event.allDay) >= ridMs),
          },
          changes,
        );
        // Everything from the split on goes as far as the new series' start moved from the
        // occurrence it splits at: the left-out dates, the occurrences changed on their own
        // (re-signed for the new series) and the attendees' answers (which it signs count there;
        // each attendee it keeps keeps their answer for the series).
        let moveTo: ((recurrenceId: string) => string) | null = null;
        let moves: OverrideMove[] = [];
        if (fresh.allDay === event.allDay) {
          const delta = toMs(fresh.start, fresh.allDay) - ridMs;
          moveTo = (id) => shift(id, fresh.allDay, delta);
          if (changes.exdates === undefined) fresh.exdates = fresh.exdates.map(moveTo).sort();
          // The one split at gives the new series its times; those after it keep their own.
          const after = event.overrides.filter((o) => toMs(o.recurrenceId, event.allDay) > ridMs);
          moves = overridesMoved(after, fresh.allDay, delta);
          // What the one split at says of its own (a title, a room) stays with it, as the new
          // series' first occurrence changed on its own, with this edit's changes on top.
          const own = splitAt && ownContent(splitAt, changes, fresh);
          if (own) {
            const { allDay, start, end, timeZone } = fresh;
            moves.unshift({
              from: rid,
              to: moveTo(rid),
              times: { allDay, start, end, timeZone },
              o: { ...splitAt, ...own },
            });
          }
        }
        checkSeries(fresh, me.id);
        const newEventId = newId();
        const refs: string[] = [];
        const result = await withCards(event.conversationId, refs, async () => {
          refs.push(
            await sendRevision(
              metaOf(eventId, event.conversationId, me.id, event.revision + 1, shortened),
              shortened,
              answersKept(event, event.revision + 1, (id) => shortened.attendees.includes(id)),
            ),
          );
          refs.push(
            await sendRevision(metaOf(newEventId, event.conversationId, me.id, 1, fresh), fresh, {
              answersCarried: answersSplitOff(
                event,
                rid,
                (id) => fresh.attendees.includes(id),
                moveTo,
              ),
            }),
          );
          const overrides = await sendMoved(
            newEventId,
            event.conversationId,
            me.id,
            fresh,
            1,
            moves,
            () => 1,
            refs,
          );
          return deps.api().calendar.update.mutate({
            eventId,
            expectedRevision: event.revision,
            scope: 'following',
            recurrenceId: rid,
            series: wire(shortened, event.revision + 1, refs[0]!),
            split: {
              eventId: newEventId,
              series: wire(fresh, 1, refs[1]!),
              ...(overrides.length > 0 ? { overrides } : {}),
            },
          });
        });
        return { eventId: result.eventId, conflicts: await titled(result.conflicts) };
      }

      // The whole series. Moving its start moves its exceptions with it: the left-out dates,
      // and each occurrence changed on its own, re-signed under the recurrence id it moved to
      // (the server drops any that no longer falls on an occurrence of the new series). The
      // attendees' answers for single occurrences go along, where this revision signs they went.
      const next = applyChanges(current, changes);
      let moves: OverrideMove[] = [];
      let moveTo: ((recurrenceId: string) => string) | undefined;
      if (event.rrule && next.start !== current.start && next.allDay === current.allDay) {
        const delta = toMs(next.start, next.allDay) - toMs(current.start, current.allDay);
        moveTo = (recurrenceId) => shift(recurrenceId, next.allDay, delta);
        if (changes.exdates === undefined)
          next.exdates = current.exdates.map((d) => shift(d, next.allDay, delta)).sort();
        moves = overridesMoved(event.overrides, next.allDay, delta);
      }
      checkSeries(next, me.id);
      const revision = event.revision + 1;
      // Every revision sent goes into `refs` as it goes out, so a failure anywhere takes all back.
      const refs: string[] = [];
      const result = await withCards(event.conversationId, refs, async () => {
        refs.push(
          await sendRevision(
            metaOf(eventId, event.conversationId, me.id, revision, next),
            next,
            answersKept(event, revision, (id) => next.attendees.includes(id), moveTo),
          ),
        );
        const movedOverrides = await sendMoved(
          eventId,
          event.conversationId,
          me.id,
          next,
          revision,
          moves,
          (o) => o.revision + 1,
          refs,
        );
        return deps.api().calendar.update.mutate({
          eventId,
          expectedRevision: event.revision,
          scope: 'all',
          series: wire(next, revision, refs[0]!),
          ...(movedOverrides.length > 0 ? { movedOverrides } : {}),
        });
      });
      return { eventId, conflicts: await titled(result.conflicts) };
    },

    async delete(eventId, options = {}) {
      const me = await deps.me();
      const event = await get(eventId);
      if (event.organizer.id !== me.id) throw new CalendarForbiddenError();
      const { recurrenceId } = options;
      let scope = event.rrule ? (options.scope ?? 'all') : 'all';
      if (scope === 'following' && recurrenceId === event.start) scope = 'all';
      if (scope === 'all') {
        await deps.api().calendar.delete.mutate({
          eventId,
          expectedRevision: event.revision,
          scope: 'all',
        });
        // A card in the chat tells the members it was cancelled.
        await sendRevision(
          metaOf(eventId, event.conversationId, me.id, event.revision, seriesOf(event)),
          event,
          { deleted: true },
        ).catch(() => {});
        return;
      }
      if (!recurrenceId) fail('recurrenceId', 'Name the occurrence to delete');
      const current = seriesOf(event);
      const next: SeriesFields =
        scope === 'this'
          ? { ...current, exdates: [...new Set([...current.exdates, recurrenceId])].sort() }
          : {
              ...current,
              rrule: ruleEndingBefore(event.rrule!, recurrenceId, event.allDay),
              exdates: current.exdates.filter(
                (d) => toMs(d, event.allDay) < toMs(recurrenceId, event.allDay),
              ),
            };
      const revision = event.revision + 1;
      const contentRef = await sendRevision(
        metaOf(eventId, event.conversationId, me.id, revision, next),
        next,
        answersKept(event, revision, (id) => next.attendees.includes(id)),
      );
      await withCards(event.conversationId, [contentRef], () =>
        deps.api().calendar.delete.mutate({
          eventId,
          expectedRevision: event.revision,
          scope,
          recurrenceId,
          series: wire(next, revision, contentRef),
        }),
      );
    },

    async list({ from, to, conversationId }) {
      const me = await deps.me();
      const result = await deps.api().calendar.listOccurrences.query({
        from,
        to,
        ...(conversationId ? { conversationId } : {}),
      });
      await openAll(result.events);
      const verified = new Map<string, CalendarEvent>();
      const rejected: CalendarRejection[] = [];
      for (const dto of result.events) {
        try {
          verified.set(dto.id, await verify(dto));
        } catch (error) {
          if (!(error instanceof CalendarVerificationError)) throw error;
          rejected.push({
            eventId: dto.id,
            conversationId: dto.conversationId,
            reason: error.reason,
          });
        }
      }
      const occurrences: CalendarOccurrence[] = [];
      for (const o of result.occurrences) {
        const event = verified.get(o.eventId);
        if (!event) continue;
        const override = o.overridden
          ? event.overrides.find((x) => x.recurrenceId === o.recurrenceId)
          : undefined;
        const content = override ?? event;
        // Each attendee's answer for this occurrence: its own, else the one for the series.
        const attendees = event.attendees.map((a) => {
          const own = a.occurrences.find((x) => x.recurrenceId === o.recurrenceId);
          return own ? { ...a, status: own.status, comment: own.comment } : a;
        });
        // Times come from the server's expansion of verified metadata.
        occurrences.push({
          eventId: event.id,
          conversationId: event.conversationId,
          recurrenceId: o.recurrenceId,
          allDay: o.allDay,
          start: o.start,
          end: o.end,
          timeZone: content.timeZone,
          title: content.title,
          description: content.description,
          location: content.location,
          notes: content.notes,
          organizer: event.organizer,
          attendees,
          myStatus:
            event.organizer.id === me.id
              ? 'organizer'
              : (attendees.find((a) => a.userId === me.id)?.status ?? 'needs-action'),
          reminders: event.reminders,
          rrule: event.rrule,
          overridden: override !== undefined,
          revision: event.revision,
        });
      }
      return { occurrences, rejected };
    },

    get,

    async rsvp(eventId, status, options = {}) {
      const event = await get(eventId);
      const { recurrenceId } = options;
      if (recurrenceId !== undefined && !event.rrule)
        throw new CalendarInputError('A single event is answered as a whole', {
          recurrenceId: ['A single event is answered as a whole'],
        });
      // The answers of this user that this one replaces: for the series, every answer of theirs;
      // for one occurrence, those that count there. The latest of each device, by its chain.
      const me = await deps.me();
      const replaced = new Map<string, [number, number]>();
      for (const a of sources.get(event)?.answers ?? []) {
        if (a.userId !== me.id || !a.at) continue;
        if (recurrenceId !== undefined && a.recurrenceId !== recurrenceId) continue;
        const known = replaced.get(a.device);
        if (!known || chainBefore(known, a.at)) replaced.set(a.device, a.at);
      }
      const record = await deps.send(event.conversationId, {
        type: 'calendar',
        eventId: fromHex(eventId, 16),
        revision: event.revision,
        deleted: false,
        fields: {
          kind: 'rsvp',
          status,
          comment: options.comment ?? '',
          ...(recurrenceId === undefined ? {} : { recurrenceId }),
          ...(replaced.size > 0 ? { after: formatAfter(replaced) } : {}),
        },
      });
      const result = await deps.api().calendar.rsvp.mutate({
        eventId,
        status,
        rsvpRef: record.clientMessageId,
        ...(recurrenceId === undefined ? {} : { recurrenceId }),
      });
      return { conflicts: await titled(result.conflicts) };
    },

    async freeBusy(userIds, { from, to }, options = {}) {
      return deps.api().calendar.freeBusy.query({ userIds, from, to, ...options });
    },

    async reminderNotification(reminder) {
      let title: string | null = null;
      try {
        const event = await get(reminder.eventId);
        const override = event.overrides.find((o) => o.recurrenceId === reminder.recurrenceId);
        title = (override ?? event).title;
      } catch {
        title = null;
      }
      return { ...reminder, title };
    },
  };
}
