import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectVisible,
  launchChromium,
  openChats,
  openConversation,
  openPage,
  problemWatcher,
  registerAndSetUp,
  repoDir,
  screenshots,
  snap,
  startConversation,
  startServer,
  type ServerProcess,
} from './support.ts';

// The calendar in real browsers: alice creates an event by dragging in the week view and bob,
// invited in their shared conversation, sees it on his own calendar and answers it. Dave, at
// UTC−10, and erin, at UTC+14, both see an all-day event on the date it was made for.
const docsImages = join(repoDir, 'docs', 'images');
const suffix = Date.now().toString(36).slice(-5);
const names = {
  alice: `alice_c${suffix}`,
  bob: `bob_c${suffix}`,
  dave: `dave_c${suffix}`,
  erin: `erin_c${suffix}`,
};
const password = 'copper kettle meadow 19';

let server: ServerProcess;
let browser: Browser;
const { problems, watch } = problemWatcher();

/** A desktop page for `name` in the time zone `timezoneId`. */
async function openIn(name: string, timezoneId: string): Promise<Page> {
  return watch(
    await openPage(browser, { viewport: { width: 1280, height: 900 }, timezoneId }),
    name,
  );
}

/** Registers `username` and sets up encryption. */
function register(page: Page, username: string): Promise<void> {
  return registerAndSetUp(page, server.url, username, password);
}

async function openCalendar(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Calendar' })
    .click();
  await expectVisible(page.getByRole('heading', { level: 1, name: 'Calendar' }));
  await expectVisible(page.locator('.calendar-frame [data-time="09:00:00"]').first());
}

/** The calendar's event with this title (FullCalendar draws each as an element with its text). */
function eventIn(page: Page, title: string) {
  return page.locator('.calendar-frame').getByText(title, { exact: true }).first();
}

/** Drags an event `slots` time slots of `slotHeight` pixels later, grabbed near its top. */
async function dragLater(page: Page, event: Locator, slotHeight: number, slots: number) {
  const box = (await event.boundingBox())!;
  // Near its top: its bottom edge is the resize handle.
  const grab = { x: box.x + box.width / 2, y: box.y + 6 };
  await page.mouse.move(grab.x, grab.y);
  await page.mouse.down();
  for (let slot = 1; slot <= slots; slot++)
    await page.mouse.move(grab.x, grab.y + slot * slotHeight, { steps: 5 });
  await page.mouse.up();
}

/** Drags a repeating event two slots later and moves all of its occurrences. */
async function moveSeriesLater(page: Page, title: string, slotHeight: number) {
  await dragLater(page, eventIn(page, title), slotHeight, 2);
  const ask = page.getByRole('dialog', { name: 'Move a repeating event' });
  await expectVisible(ask);
  await snap(page, 'calendar-move-repeating-desktop');
  await ask.getByLabel('All occurrences').check();
  await ask.getByRole('button', { name: 'Move' }).click();
  await expectVisible(page.getByText(`Moved “${title}”.`));
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
});

afterAll(async () => {
  // The server's log, for diagnosing a failure.
  if (server) writeFileSync(join(screenshots, 'calendar-server.log'), server.output.join('\n'));
  await browser?.close();
  await server?.stop();
});

describe('the calendar in the browser', () => {
  let alice: Page;
  let bob: Page;

  it('alice drags out an event in week view; bob, invited, sees it and answers', async () => {
    alice = await openIn('alice', 'Europe/Berlin');
    bob = await openIn('bob', 'Europe/Berlin');
    await Promise.all([register(alice, names.alice), register(bob, names.bob)]);
    await startConversation(alice, names.bob);
    await Promise.all([openCalendar(alice), openCalendar(bob)]);

    // Week view is the default. Drag in the second day's column from 09:00 to the end of 10:00.
    const column = alice.locator('.calendar-frame [role="columnheader"][data-date]').nth(1);
    const date = await column.getAttribute('data-date');
    expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const columnBox = (await column.boundingBox())!;
    const nine = (await alice
      .locator('.calendar-frame [data-time="09:00:00"]')
      .last()
      .boundingBox())!;
    const ten = (await alice
      .locator('.calendar-frame [data-time="10:00:00"]')
      .last()
      .boundingBox())!;
    const x = columnBox.x + columnBox.width / 2;
    await alice.mouse.move(x, nine.y + nine.height / 2);
    await alice.mouse.down();
    await alice.mouse.move(x, nine.y + nine.height * 1.5, { steps: 4 });
    await alice.mouse.move(x, ten.y + ten.height / 2, { steps: 6 });
    await alice.mouse.up();

    const dialog = alice.getByRole('dialog', { name: 'New event' });
    await expectVisible(dialog);
    // The dragged range, in alice's zone: 09:00 until the end of the 10:00 slot (10:30).
    expect(await dialog.getByLabel('Starts').inputValue()).toBe(`${date}T09:00`);
    expect(await dialog.getByLabel('Ends').inputValue()).toBe(`${date}T10:30`);
    await dialog.getByLabel('Title').fill('Design review');
    await dialog.getByLabel('Conversation').selectOption({ label: names.bob });
    await dialog.getByLabel(names.bob).check();
    await dialog.getByLabel('Location').fill('Room 4');
    await dialog.getByLabel('Description').fill('Walk through the new screens');
    await snap(alice, 'calendar-new-event-desktop');
    await dialog.getByRole('button', { name: 'Create event' }).click();
    await expectVisible(alice.getByText('Created “Design review”.'));
    await expectVisible(eventIn(alice, 'Design review'));

    // Bob's calendar updates live (or, at worst, on reload).
    const onBobs = eventIn(bob, 'Design review');
    try {
      await expectVisible(onBobs, 10_000);
    } catch {
      await bob.reload();
      await expectVisible(onBobs);
    }
    // Events are reachable by keyboard: focus one and press Enter.
    await bob
      .locator('.calendar-frame [tabindex="0"]', { hasText: 'Design review' })
      .first()
      .focus();
    await bob.keyboard.press('Enter');
    const details = bob.getByRole('dialog', { name: 'Event' });
    // In a direct conversation, whose title is the organizer's name, not "… in alice".
    await expectVisible(details.getByText(`Organized by ${names.alice}`, { exact: true }));
    expect(await details.textContent()).toContain('Room 4');
    await details.getByLabel('Comment with your answer (optional)').fill('Bringing the mock-ups');
    await snap(bob, 'calendar-event-answer-desktop');
    await details.getByRole('button', { name: 'Going', exact: true }).click();
    await expectVisible(bob.getByText('Answered “Going” to “Design review”.'));

    // Alice sees the answer and the comment on her copy.
    await expect
      .poll(
        async () => {
          await eventIn(alice, 'Design review').click();
          const text = await alice.getByRole('dialog', { name: 'Edit event' }).textContent();
          await alice.getByRole('button', { name: 'Cancel' }).click();
          return text ?? '';
        },
        { timeout: 20_000 },
      )
      .toContain('Going: “Bringing the mock-ups”');
    // While she edits it, bob's acceptance of this very event does not count as busy.
    await eventIn(alice, 'Design review').click();
    const editing = alice.getByRole('dialog', { name: 'Edit event' });
    await expectVisible(editing.getByText('Everyone invited is free then.'));
    await editing.getByRole('button', { name: 'Cancel' }).click();

    // Free/busy: inviting bob at a time he accepted shows that he is busy.
    await alice.getByRole('button', { name: 'New event' }).click();
    const another = alice.getByRole('dialog', { name: 'New event' });
    await another.getByLabel('Starts').fill(`${date}T09:30`);
    await another.getByLabel('Ends').fill(`${date}T10:00`);
    await another.getByLabel('Conversation').selectOption({ label: names.bob });
    await another.getByLabel(names.bob).check();
    await expectVisible(another.getByText(`Busy then: ${names.bob}`));
    await another.getByLabel('Starts').fill(`${date}T12:00`);
    await another.getByLabel('Ends').fill(`${date}T13:00`);
    await expectVisible(another.getByText('Everyone invited is free then.'));
    await another.getByRole('button', { name: 'Cancel' }).click();

    // The event's card is in their conversation.
    await openChats(bob);
    await openConversation(bob, new RegExp(names.alice));
    await expectVisible(bob.getByRole('group', { name: /Design review/ }).first());

    // Scheduling from the chat: the dialog is preset to this conversation, and the new event's
    // card appears in the chat on both sides.
    await bob.getByRole('button', { name: 'Schedule in this conversation' }).click();
    const schedule = bob.getByRole('dialog', { name: 'New event' });
    await expectVisible(schedule);
    expect(
      await schedule
        .getByLabel('Conversation')
        .evaluate((el: HTMLSelectElement) => el.selectedOptions[0]?.text),
    ).toBe(names.alice);
    await schedule.getByLabel('Title').fill('Follow-up');
    await schedule.getByLabel(names.alice).check();
    await schedule.getByRole('button', { name: 'Create event' }).click();
    await expectVisible(bob.getByRole('group', { name: 'Event: Follow-up' }));
    await openChats(alice);
    await openConversation(alice, new RegExp(names.bob));
    await expectVisible(alice.getByRole('group', { name: 'Event: Follow-up' }));
    expect(problems).toEqual([]);
  }, 120_000);

  it('bob answers one occurrence of a repeating event on its own, then the whole series; moves keep his answers', async () => {
    await Promise.all([openCalendar(alice), openCalendar(bob)]);
    const date = await alice
      .locator('.calendar-frame [role="columnheader"][data-date]')
      .nth(1)
      .getAttribute('data-date');
    await alice.getByRole('button', { name: 'New event' }).click();
    const dialog = alice.getByRole('dialog', { name: 'New event' });
    await dialog.getByLabel('Title').fill('Team sync');
    await dialog.getByLabel('Starts').fill(`${date}T14:00`);
    await dialog.getByLabel('Ends').fill(`${date}T14:30`);
    await dialog.getByLabel('Repeat').selectOption({ label: 'Every day' });
    await dialog.getByLabel('Conversation').selectOption({ label: names.bob });
    await dialog.getByLabel(names.bob).check();
    await dialog.getByRole('button', { name: 'Create event' }).click();
    await expectVisible(alice.getByText('Created “Team sync”.'));

    const syncs = bob.locator('.calendar-frame').getByText('Team sync', { exact: true });
    try {
      await expectVisible(syncs.nth(1), 10_000);
    } catch {
      await bob.reload();
      await expectVisible(syncs.nth(1));
    }
    const shown = await syncs.count();
    expect(shown).toBeGreaterThanOrEqual(2);
    const withClass = (name: string) =>
      bob.locator(`.calendar-frame .${name}`, { hasText: 'Team sync' }).count();

    // Not going to the second one only.
    await syncs.nth(1).click();
    const details = bob.getByRole('dialog', { name: 'Event' });
    const answerFor = details.getByRole('group', { name: 'Answer for' });
    expect(await answerFor.getByLabel('All occurrences').isChecked()).toBe(true);
    await answerFor.getByLabel('This occurrence').check();
    await details.getByRole('button', { name: 'Not going', exact: true }).click();
    await expectVisible(bob.getByText(/^Answered “Not going” to “Team sync” on /));
    await expect.poll(() => withClass('calendar-event-declined')).toBe(1);
    expect(await withClass('calendar-event-unanswered')).toBe(shown - 1);
    // Opened again, the dialog remembers that the answer was for this occurrence.
    await syncs.nth(1).click();
    expect(await answerFor.getByLabel('This occurrence').isChecked()).toBe(true);
    expect(await details.getByRole('list', { name: 'Guests' }).textContent()).toContain(
      'Not going (this occurrence)',
    );
    expect(
      await details
        .getByRole('button', { name: 'Not going', exact: true })
        .getAttribute('aria-pressed'),
    ).toBe('true');
    await details.getByRole('button', { name: 'Close', exact: true }).click();

    // Alice moves the whole series an hour later: bob's answer for the one day goes with it.
    const declined = bob.locator('.calendar-frame .calendar-event-declined', {
      hasText: 'Team sync',
    });
    const before = await declined.textContent();
    const slot = (await alice
      .locator('.calendar-frame [data-time="14:00:00"]')
      .last()
      .boundingBox())!;
    await moveSeriesLater(alice, 'Team sync', slot.height);
    await bob.reload();
    await expectVisible(syncs.nth(1));
    await expect.poll(() => declined.textContent()).not.toBe(before);
    expect(await declined.count()).toBe(1);
    expect(await withClass('calendar-event-unanswered')).toBe(shown - 1);
    await declined.click();
    expect(await details.getByRole('list', { name: 'Guests' }).textContent()).toContain(
      'Not going (this occurrence)',
    );
    await details.getByRole('button', { name: 'Close', exact: true }).click();

    // Going to all of them replaces the answer for the one.
    await syncs.nth(0).click();
    await details.getByRole('button', { name: 'Going', exact: true }).click();
    await expectVisible(bob.getByText('Answered “Going” to “Team sync”, every time.'));
    await expect.poll(() => withClass('calendar-event-confirmed')).toBe(shown);

    // Alice moves the second one and all after it later: that starts a new series, and bob's
    // "Going" goes with it.
    const second = alice.locator('.calendar-frame').getByText('Team sync', { exact: true }).nth(1);
    await dragLater(alice, second, slot.height, 2);
    const ask = alice.getByRole('dialog', { name: 'Move a repeating event' });
    await ask.getByLabel('This and following').check();
    await ask.getByRole('button', { name: 'Move' }).click();
    await expectVisible(alice.getByText('Moved “Team sync”.'));
    const times = () =>
      bob
        .locator('.calendar-frame .calendar-event-confirmed', { hasText: 'Team sync' })
        .allTextContents();
    const confirmedBefore = await times();
    await bob.reload();
    await expectVisible(syncs.nth(1));
    // The reloaded page starts empty: wait for every occurrence, then compare.
    await expect.poll(() => withClass('calendar-event-confirmed')).toBe(shown);
    expect(await times()).not.toEqual(confirmedBefore);
    expect(await withClass('calendar-event-unanswered')).toBe(0);
    expect(problems).toEqual([]);
  }, 120_000);

  it('imports an .ics file with a repeating event and exports one event', async () => {
    await openCalendar(alice);
    const monday = await alice
      .locator('.calendar-frame [role="columnheader"][data-date]')
      .nth(1)
      .getAttribute('data-date');
    const day = monday!.replaceAll('-', '');
    const next = (n: number) => {
      const d = new Date(`${monday}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() + n);
      return d.toISOString().slice(0, 10).replaceAll('-', '');
    };
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//Example//Test//EN',
      'BEGIN:VEVENT',
      'UID:standup@example.com',
      'DTSTAMP:20260101T000000Z',
      `DTSTART;TZID=Europe/Berlin:${day}T083000`,
      `DTEND;TZID=Europe/Berlin:${day}T090000`,
      'RRULE:FREQ=DAILY;COUNT=4',
      `EXDATE;TZID=Europe/Berlin:${next(2)}T083000`,
      'SUMMARY:Stand-up',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:offsite@example.com',
      'DTSTAMP:20260101T000000Z',
      `DTSTART;VALUE=DATE:${next(3)}`,
      `DTEND;VALUE=DATE:${next(5)}`,
      'SUMMARY:Team offsite',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    await alice.getByRole('button', { name: 'Import .ics' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Import an .ics file' });
    await dialog.getByTestId('ics-input').setInputFiles({
      name: 'team.ics',
      mimeType: 'text/calendar',
      buffer: Buffer.from('not a calendar'),
    });
    await expectVisible(dialog.getByRole('alert'));
    await snap(alice, 'calendar-import-error-desktop');
    await dialog.getByTestId('ics-input').setInputFiles({
      name: 'team.ics',
      mimeType: 'text/calendar',
      buffer: Buffer.from(ics),
    });
    await expectVisible(dialog.getByRole('list', { name: 'Events in the file' }));
    await dialog.getByLabel('Add to conversation').selectOption({ label: names.bob });
    await dialog.getByRole('button', { name: 'Import 2 events' }).click();
    await expectVisible(alice.getByText('Imported 2 events.'));
    // Four daily stand-ups less the excluded one.
    await expect
      .poll(() => alice.locator('.calendar-frame').getByText('Stand-up', { exact: true }).count())
      .toBe(3);
    await expectVisible(eventIn(alice, 'Team offsite'));

    // Dragging one stand-up an hour later asks which occurrences move; "this occurrence" moves
    // only that one.
    const tuesday = `${next(1).slice(0, 4)}-${next(1).slice(4, 6)}-${next(1).slice(6)}`;
    const standUp = alice.locator('.calendar-frame').getByText('Stand-up', { exact: true }).nth(1);
    const slot = (await alice
      .locator('.calendar-frame [data-time="09:00:00"]')
      .last()
      .boundingBox())!;
    await dragLater(alice, standUp, slot.height, 2);
    const ask = alice.getByRole('dialog', { name: 'Move a repeating event' });
    await expectVisible(ask);
    expect(await ask.getByLabel('This occurrence').isChecked()).toBe(true);
    await ask.getByRole('button', { name: 'Move' }).click();
    await expectVisible(alice.getByText('Moved “Stand-up”.'));
    await expect
      .poll(async () => {
        const starts: string[] = [];
        const items = alice.locator('.calendar-frame').getByText('Stand-up', { exact: true });
        for (let i = 0; i < (await items.count()); i++) {
          await items.nth(i).click();
          const dialog = alice.getByRole('dialog', { name: 'Edit event' });
          starts.push(await dialog.getByLabel('Starts').inputValue());
          await dialog.getByRole('button', { name: 'Cancel' }).click();
        }
        return starts.sort();
      })
      .toEqual([
        `${monday}T08:30`,
        `${tuesday}T09:30`,
        `${next(3).slice(0, 4)}-${next(3).slice(4, 6)}-${next(3).slice(6)}T08:30`,
      ]);

    await eventIn(alice, 'Design review').click();
    const editor = alice.getByRole('dialog', { name: 'Edit event' });
    const [download] = await Promise.all([
      alice.waitForEvent('download'),
      editor.getByRole('button', { name: 'Download .ics' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('Design-review.ics');
    const parts: Buffer[] = [];
    for await (const part of await download.createReadStream()) parts.push(part as Buffer);
    const text = Buffer.concat(parts).toString('utf8');
    expect(text).toContain('SUMMARY:Design review\r\n');
    expect(text).toMatch(/DTSTART;TZID=Europe\/Berlin:\d{8}T090000\r\n/);
    await editor.getByRole('button', { name: 'Cancel' }).click();

    // The shown range exports every series in it, with the moved occurrence as an override.
    const [rangeDownload] = await Promise.all([
      alice.waitForEvent('download'),
      alice.getByRole('button', { name: 'Export shown range' }).click(),
    ]);
    const rangeParts: Buffer[] = [];
    for await (const part of await rangeDownload.createReadStream())
      rangeParts.push(part as Buffer);
    const range = Buffer.concat(rangeParts).toString('utf8');
    for (const line of ['SUMMARY:Design review', 'SUMMARY:Stand-up', 'SUMMARY:Team offsite']) {
      expect(range).toContain(`${line}\r\n`);
    }
    expect(range).toContain('RRULE:FREQ=DAILY;COUNT=4\r\n');
    expect(range).toContain(`RECURRENCE-ID;TZID=Europe/Berlin:${next(1)}T083000\r\n`);
    expect(range).toContain(`DTSTART;VALUE=DATE:${next(3)}\r\n`);

    // Another zone shows the same instant at another hour, and is remembered.
    const zonePicker = alice.getByLabel('Time zone');
    await zonePicker.selectOption('Asia/Tokyo');
    // 09:00 in Berlin is 17:00 in Tokyo in winter (UTC+1 and UTC+9), 16:00 in summer.
    const berlinOffset = Number(
      new Intl.DateTimeFormat('en', { timeZone: 'Europe/Berlin', timeZoneName: 'shortOffset' })
        .formatToParts(new Date(`${monday}T12:00:00Z`))
        .find((part) => part.type === 'timeZoneName')!
        .value.replace('GMT', ''),
    );
    const tokyoHour = String(9 - berlinOffset + 9).padStart(2, '0');
    const tokyoRow = alice.locator(`.calendar-frame [data-time="${tokyoHour}:00:00"]`).last();
    await expect
      .poll(async () => {
        const eventBox = (await eventIn(alice, 'Design review').boundingBox())!;
        const rowBox = (await tokyoRow.boundingBox())!;
        return Math.abs(eventBox.y - rowBox.y) < rowBox.height;
      })
      .toBe(true);
    await alice.reload();
    await expectVisible(alice.getByRole('heading', { level: 1, name: 'Calendar' }));
    expect(await alice.getByLabel('Time zone').inputValue()).toBe('Asia/Tokyo');
    await alice.getByLabel('Time zone').selectOption('Europe/Berlin');

    // Bob is not invited to the imported events: his calendar leaves them out, and showing
    // everything in the conversation brings them in.
    await openCalendar(bob);
    await expectVisible(eventIn(bob, 'Design review'));
    expect(
      await bob.locator('.calendar-frame').getByText('Stand-up', { exact: true }).count(),
    ).toBe(0);
    await bob.getByLabel('Show').selectOption({ label: `Everything in ${names.alice}` });
    await expect
      .poll(() => bob.locator('.calendar-frame').getByText('Stand-up', { exact: true }).count())
      .toBe(3);

    // The week with a few events, for the README.
    await alice.reload();
    await expectVisible(eventIn(alice, 'Design review'));
    await alice.evaluate(() => window.scrollTo(0, 0));
    await snap(alice, 'calendar-week');
    // The README's picture changes only when asked for, not on every test run.
    if (process.env.UPDATE_DOCS_IMAGES === '1') {
      mkdirSync(docsImages, { recursive: true });
      await alice.screenshot({ path: join(docsImages, 'calendar.png') });
    }

    // Moving the whole series an hour later carries the stand-up moved on its own along. In the
    // chat, its card folds into the card of the move, which lists it on request.
    await moveSeriesLater(alice, 'Stand-up', slot.height);
    await openChats(alice);
    await openConversation(alice, new RegExp(names.bob));
    const moved = alice.getByRole('group', { name: 'Event updated: Stand-up' });
    await expectVisible(moved);
    await moved.getByRole('button', { name: 'Show the occurrence moved with it' }).click();
    const hide = moved.getByRole('button', { name: 'Hide the occurrence moved with it' });
    expect(await hide.getAttribute('aria-expanded')).toBe('true');
    await expectVisible(moved.getByRole('listitem'));
    // The import's card, the single move's and the series move's: none for the carried one.
    expect(await alice.getByRole('group', { name: /: Stand-up$/ }).count()).toBe(3);
    expect(problems).toEqual([]);
  }, 120_000);

  it('a reminder arrives without content and shows the decrypted title', async () => {
    // Notifications the page creates are recorded instead of shown.
    await alice.context().addInitScript(() => {
      const shown: { title: string; body: string }[] = [];
      (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
      class RecordedNotification {
        static permission = 'granted';
        static requestPermission = () => Promise.resolve('granted');
        onclick: (() => void) | null = null;
        constructor(title: string, options?: { body?: string }) {
          shown.push({ title, body: options?.body ?? '' });
        }
        close() {}
      }
      (window as unknown as { Notification: unknown }).Notification = RecordedNotification;
    });
    await alice.goto(`${server.url}/calendar`);
    await expectVisible(alice.getByRole('heading', { level: 1, name: 'Calendar' }));
    // An event that started five minutes ago, reminding at its start: the reminder is due now.
    const berlin = (ms: number) =>
      new Date(ms)
        .toLocaleString('sv-SE', { timeZone: 'Europe/Berlin' })
        .replace(' ', 'T')
        .slice(0, 16);
    await alice.getByRole('button', { name: 'New event' }).click();
    const dialog = alice.getByRole('dialog', { name: 'New event' });
    await dialog.getByLabel('Title').fill('Pay the invoices');
    await dialog.getByLabel('Starts').fill(berlin(Date.now() - 5 * 60_000));
    await dialog.getByLabel('Ends').fill(berlin(Date.now() + 55 * 60_000));
    await dialog.getByLabel('10 minutes before').uncheck();
    await dialog.getByLabel('At the start').check();
    await dialog.getByRole('button', { name: 'Create event' }).click();
    await expectVisible(alice.getByText('Created “Pay the invoices”.'));
    await expect
      .poll(
        () =>
          alice.evaluate(
            () =>
              (window as unknown as { shownNotifications: { title: string; body: string }[] })
                .shownNotifications,
          ),
        { timeout: 20_000 },
      )
      .toContainEqual({ title: 'Pay the invoices', body: 'Starting now' });
    expect(problems).toEqual([]);
  }, 60_000);

  it('an all-day event stays on its date at UTC−10 and at UTC+14', async () => {
    const dave = await openIn('dave', 'Pacific/Honolulu');
    const erin = await openIn('erin', 'Pacific/Kiritimati');
    await Promise.all([register(dave, names.dave), register(erin, names.erin)]);
    await startConversation(dave, names.erin);
    await openCalendar(dave);

    await dave.getByRole('button', { name: 'New event' }).click();
    const dialog = dave.getByRole('dialog', { name: 'New event' });
    await expectVisible(dialog);
    await dialog.getByLabel('Title').fill('Launch day');
    await dialog.getByLabel('All day').check();
    await dialog.getByLabel('First day').fill('2026-05-05');
    await dialog.getByLabel('Last day').fill('2026-05-05');
    await dialog.getByLabel('Conversation').selectOption({ label: names.erin });
    await dialog.getByLabel(names.erin).check();
    await dialog.getByRole('button', { name: 'Create event' }).click();
    await expectVisible(dave.getByText('Created “Launch day”.'));

    for (const page of [dave, erin]) {
      await page.goto(`${server.url}/calendar?date=2026-05-05`);
      await expectVisible(page.getByRole('heading', { level: 1, name: 'Calendar' }));
      await page.getByRole('button', { name: 'Month', exact: true }).click();
      // The event is drawn within 5 May's column of the month grid, not its neighbours'.
      const event = eventIn(page, 'Launch day');
      await expectVisible(event);
      const eventBox = (await event.boundingBox())!;
      const center = eventBox.x + eventBox.width / 2;
      const middle = eventBox.y + eventBox.height / 2;
      const dayBox = async (date: string) =>
        (await page
          .locator(
            `.calendar-frame [role="gridcell"][data-date="${date}"], .calendar-frame [role="cell"][data-date="${date}"]`,
          )
          .first()
          .boundingBox())!;
      const day = await dayBox('2026-05-05');
      expect(center).toBeGreaterThan(day.x);
      expect(center).toBeLessThan(day.x + day.width);
      expect(middle).toBeGreaterThan(day.y);
      expect(middle).toBeLessThan(day.y + day.height);
      expect(
        await page.locator('.calendar-frame').getByText('Launch day', { exact: true }).count(),
      ).toBe(1);
      await page.screenshot({
        path: join(
          screenshots,
          `calendar-all-day-${page === dave ? 'honolulu' : 'kiritimati'}.png`,
        ),
      });
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
