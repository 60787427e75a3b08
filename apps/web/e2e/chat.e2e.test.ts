import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  composer,
  DESKTOP,
  expectVisible,
  heading,
  launchChromium,
  message,
  openConversation,
  openPage,
  openSection,
  PHONE,
  problemWatcher,
  send,
  snap,
  startConversation,
  startServer,
  submitCredentials,
  type ServerProcess,
} from './support.ts';

// Three people in three browser contexts (three separate profiles, so three devices with their
// own IndexedDB keys): alice and carol on desktops in light mode, bob on a phone in dark mode.
const suffix = Date.now().toString(36).slice(-5);
const names = { alice: `alice_${suffix}`, bob: `bob_${suffix}`, carol: `carol_${suffix}` };
const password = 'copper kettle meadow 19';

let server: ServerProcess;
let browser: Browser;
let alice: Page;
let bob: Page;
let carol: Page;
const { problems, watch } = problemWatcher();

/** Registers, sets up encryption and confirms the recovery key was saved. */
async function registerAndSetUp(page: Page, username: string, shot?: string): Promise<string> {
  await page.goto(`${server.url}/register`);
  await submitCredentials(page, username, password, 'Create account');
  await expectVisible(heading(page, 'Set up end-to-end encryption'));
  await page.getByRole('button', { name: 'Set up encryption' }).click();
  await expectVisible(heading(page, 'Save your recovery key'));
  const recoveryKey =
    (await page.getByRole('status', { name: 'Recovery key' }).textContent()) ?? '';
  expect(recoveryKey).toMatch(/^[0-9A-Z]{4}( [0-9A-Z]{4}){13}$/);
  if (shot) await snap(page, shot);
  const next = page.getByRole('button', { name: 'Continue to chats' });
  expect(await next.isDisabled()).toBe(true);
  await page.getByLabel('I have saved my recovery key somewhere safe').check();
  await next.click();
  await expectVisible(heading(page, 'Chats'));
  await expectVisible(page.getByText('No conversations yet'));
  return recoveryKey;
}

/** The "Not sent" alert of one of alice's messages. */
function notSent(text: string): Locator {
  return message(alice, text)
    .getByRole('alert')
    .getByText(/^Not sent/);
}

/** Alice's message reached bob once, and his device reports no message missing before it. */
async function bobHasItOnce(text: string): Promise<void> {
  await expectVisible(message(bob, text), 60_000);
  expect(await message(bob, text).count()).toBe(1);
  await expect.poll(() => bob.getByText('never reached this device').count()).toBe(0);
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
  alice = watch(await openPage(browser, DESKTOP), 'alice');
  bob = watch(await openPage(browser, PHONE), 'bob');
  carol = watch(await openPage(browser, DESKTOP), 'carol');
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('chatting end to end in the browser', () => {
  it('alice, bob and carol register and set up encryption, saving their recovery keys', async () => {
    const keys = await Promise.all([
      registerAndSetUp(alice, names.alice, 'device-setup-recovery-key-desktop'),
      registerAndSetUp(bob, names.bob, 'device-setup-recovery-key-phone-dark'),
      registerAndSetUp(carol, names.carol),
    ]);
    expect(new Set(keys).size).toBe(3);
  });

  it('alice opens a direct conversation with bob and sends; bob sees it live with an unread badge and replies', async () => {
    await startConversation(alice, names.bob);
    await send(alice, 'The harbour lantern is lit tonight');
    await send(alice, 'Hello bob, this is alice');

    // Bob is on his conversation list: it updates live, with an unread count.
    const unread = bob
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('link', { name: new RegExp(`${names.alice}.*2 unread messages`) });
    await expectVisible(unread);
    await snap(bob, 'conversation-list-unread-phone-dark');
    await unread.click();
    await expectVisible(message(bob, 'Hello bob, this is alice'));
    // Sender and time head a run of messages from one person.
    expect(await message(bob, 'The harbour lantern is lit tonight').textContent()).toContain(
      names.alice,
    );

    // Shift+Enter breaks the line; alice sees bob typing, then the reply.
    await composer(bob).pressSequentially('Hi alice!');
    await expectVisible(alice.getByText(`${names.bob} is typing…`));
    await composer(bob).press('Shift+Enter');
    await composer(bob).pressSequentially('Got both messages.');
    await composer(bob).press('Enter');
    await expectVisible(message(bob, 'Got both messages.'));
    const reply = message(alice, 'Got both messages.');
    await expectVisible(reply);
    expect(await reply.textContent()).toContain('Hi alice!');
    // Bob read alice's messages (read receipts are on by default).
    await expectVisible(alice.getByText('Read', { exact: true }));
    await snap(bob, 'conversation-phone-dark');

    // A reaction and a reply travel too.
    await reply.hover();
    await reply.getByRole('button', { name: `React to message from ${names.bob}` }).click();
    await alice.getByRole('button', { name: 'React with 👍' }).click();
    await expectVisible(message(bob, 'Got both messages.').getByRole('button', { name: /👍 1/ }));
    await reply.getByRole('button', { name: `Reply to message from ${names.bob}` }).click();
    await expectVisible(alice.getByText(`Replying to ${names.bob}:`));
    await send(alice, 'Great, talk soon');
    await expectVisible(
      message(bob, 'Great, talk soon').getByRole('button', { name: /^Replying to/ }),
    );
    await snap(alice, 'conversation-desktop');
  });

  it('an edit and a delete reach the other side', async () => {
    await send(alice, 'This one will be deleted');
    await expectVisible(message(bob, 'This one will be deleted'));

    const original = message(alice, 'Hello bob, this is alice');
    await original.hover();
    await original.getByRole('button', { name: 'Edit message' }).click();
    await expectVisible(alice.getByText('Editing message'));
    expect(await composer(alice).inputValue()).toBe('Hello bob, this is alice');
    await composer(alice).fill('Hello bob, this is alice (edited)');
    await composer(alice).press('Enter');
    const edited = message(bob, 'Hello bob, this is alice (edited)');
    await expectVisible(edited);
    await expectVisible(edited.getByText('edited', { exact: true }));

    const doomed = message(alice, 'This one will be deleted');
    await doomed.hover();
    await doomed.getByRole('button', { name: 'Delete message' }).click();
    await snap(alice, 'delete-message-confirm-desktop');
    await alice
      .getByRole('dialog', { name: 'Delete this message for everyone?' })
      .getByRole('button', { name: 'Delete for everyone' })
      .click();
    await expect.poll(() => message(alice, 'This one will be deleted').count()).toBe(0);
    await expect.poll(() => message(bob, 'This one will be deleted').count()).toBe(0);
    await expectVisible(bob.getByText('This message was deleted.'));
  });

  it('a group with a third user works', async () => {
    await alice.getByRole('button', { name: 'New group' }).click();
    const dialog = alice.getByRole('dialog', { name: 'New group' });
    await dialog.getByLabel('Group name').fill('Launch plans');
    await dialog.getByLabel('Members').fill(`${names.bob}, ${names.carol}`);
    await snap(alice, 'new-group-desktop');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await expectVisible(heading(alice, 'Launch plans', 2));
    await send(alice, 'Welcome to the launch group');

    // Carol was not in any conversation before: the group appears, titled, with its message.
    const group = carol
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('link', { name: /^Launch plans.*unread message/ });
    await expectVisible(group);
    await group.click();
    const welcome = message(carol, 'Welcome to the launch group');
    await expectVisible(welcome);
    await welcome.hover();
    await welcome.getByRole('button', { name: `Reply to message from ${names.alice}` }).click();
    await send(carol, 'Thanks alice, carol here');
    await expectVisible(message(alice, 'Thanks alice, carol here'));

    await bob.getByRole('link', { name: 'Back to conversations' }).click();
    await openConversation(bob, /^Launch plans/);
    await expectVisible(message(bob, 'Thanks alice, carol here'));
    await expectVisible(message(bob, 'Welcome to the launch group'));
    await send(bob, 'Bob is in as well');
    await expectVisible(message(alice, 'Bob is in as well'));
    await expectVisible(message(carol, 'Bob is in as well'));
    // Carol has the group open: the new message never shows as unread in her list.
    expect(
      await carol
        .getByRole('navigation', { name: 'Conversations' })
        .getByRole('link', { name: /^Launch plans.*unread/ })
        .count(),
    ).toBe(0);
    // …and her list already shows it as the group's latest message.
    expect(
      await carol
        .getByRole('navigation', { name: 'Conversations' })
        .getByRole('link', { name: /^Launch plans.*: Bob is in as well/ })
        .count(),
    ).toBe(1);
    await snap(carol, 'group-desktop');
  });

  it('a reload shows history from the local cache', async () => {
    // The server's history and conversation list are made unreachable: whatever shows after the
    // reload comes from this browser's encrypted local cache.
    const blocked = /\/trpc\/[^?]*(messages\.list|conversations\.list)/;
    await bob.route(blocked, (route) => route.abort());
    await bob.reload();
    await expectVisible(bob.getByText('Offline: showing the messages saved on this device.'));
    await expectVisible(heading(bob, 'Launch plans', 2));
    await expectVisible(message(bob, 'Welcome to the launch group'));
    await expectVisible(message(bob, 'Thanks alice, carol here'));
    await expectVisible(message(bob, 'Bob is in as well'));
    await snap(bob, 'reload-from-local-cache-phone-dark');
    await bob.getByRole('link', { name: 'Back to conversations' }).click();
    await expectVisible(bob.getByText('Offline: showing the conversations saved on this device.'));
    await openConversation(bob, new RegExp(`^${names.alice}`));
    await expectVisible(message(bob, 'Hello bob, this is alice (edited)'));
    await expectVisible(message(bob, 'The harbour lantern is lit tonight'));
    await bob.unroute(blocked);
  });

  it('search finds an older message', async () => {
    const search = alice.getByRole('searchbox', { name: 'Search messages' });
    await search.fill('harb lant');
    const results = alice.getByRole('region', { name: 'Search results' });
    await expectVisible(results.getByText('Search covers the messages this browser has decrypted'));
    const hit = results.getByRole('link', { name: /The harbour lantern is lit tonight/ });
    await expectVisible(hit);
    await snap(alice, 'search-desktop');
    await hit.click();
    await expectVisible(heading(alice, names.bob, 2));
    await expectVisible(message(alice, 'The harbour lantern is lit tonight'));
    await search.fill('');
  });

  it('a message that could not be sent stays after a reload, and Retry sends it once', async () => {
    await openConversation(alice, new RegExp(`^${names.bob}`));
    await expectVisible(heading(alice, names.bob, 2));
    // Sends fail as on a dead network: the request never reaches the server.
    const sends = /\/trpc\/[^?]*messages\.send/;
    await alice.route(sends, (route) => route.abort());
    const text = 'Written on the train, sent later';
    await send(alice, text);
    // The client retries a few times, with back-off, before it gives up.
    await expectVisible(notSent(text), 30_000);
    // After a reload the app tries once more by itself, and fails the same way.
    await alice.reload();
    await expectVisible(message(alice, text).getByText('Sending…'));
    await expectVisible(notSent(text), 30_000);
    // The conversation list says so too.
    const link = alice
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('link', { name: new RegExp(`^${names.bob}`) });
    await expectVisible(link.getByText(`Not sent: You: ${text}`));
    await snap(alice, 'message-not-sent-desktop');
    // Retry while the network is still down; it comes back during the client's own retries.
    await message(alice, text).getByRole('button', { name: 'Retry' }).click();
    await expectVisible(message(alice, text).getByText('Sending…'));
    await alice.unroute(sends);
    await expect
      .poll(() => message(alice, text).getByRole('alert').count(), { timeout: 30_000 })
      .toBe(0);
    // The retry sent the bytes of the first attempt: bob's device sees no message missing.
    await bobHasItOnce(text);
    await expectVisible(link.getByText(`You: ${text}`, { exact: true }));
  });

  it('a message written offline goes out by itself when the connection is back', async () => {
    await alice.context().setOffline(true);
    const text = 'Sent as the train left the tunnel';
    await send(alice, text);
    await expectVisible(notSent(text), 30_000);
    await alice.context().setOffline(false);
    await expect
      .poll(() => message(alice, text).getByRole('alert').count(), { timeout: 30_000 })
      .toBe(0);
    await bobHasItOnce(text);
  });

  it('an edit made offline goes out by itself when the connection is back; a discarded reaction never does', async () => {
    const text = 'Sent as the train left the tunnel';
    const edited = `${text}, edited offline`;
    const bobOnline = alice.getByText('Online · end-to-end encrypted');
    await expectVisible(bobOnline);
    await alice.context().setOffline(true);
    // Offline, alice cannot know who is online: bob is no longer shown as online.
    await expect.poll(() => bobOnline.count()).toBe(0);
    const mine = message(alice, text);
    await mine.hover();
    await mine.getByRole('button', { name: 'Edit message' }).click();
    await composer(alice).fill(edited);
    await composer(alice).press('Enter');
    const pending = alice
      .getByRole('status')
      .filter({ hasText: 'An edit or reaction is not sent yet.' });
    await expectVisible(pending, 30_000);
    await snap(alice, 'edit-not-sent-desktop');
    // Nobody has the edit yet, so it does not show.
    expect(await message(alice, edited).count()).toBe(0);
    await alice.context().setOffline(false);
    await expectVisible(message(bob, edited), 30_000);
    await expectVisible(message(alice, edited));
    await expect.poll(() => pending.count()).toBe(0);
    await expectVisible(bobOnline);

    // A reaction made offline and then discarded never goes out, also not after a reload.
    await alice.context().setOffline(true);
    const target = message(alice, edited);
    await target.hover();
    await target.getByRole('button', { name: 'React to message from you' }).click();
    await alice.getByRole('button', { name: 'React with 🎉' }).click();
    await expectVisible(pending, 30_000);
    await pending.getByRole('button', { name: 'Discard unsent edits and reactions' }).click();
    await expect.poll(() => pending.count()).toBe(0);
    await alice.context().setOffline(false);
    await alice.reload();
    const after = 'Back above ground';
    await send(alice, after);
    await bobHasItOnce(after);
    for (const page of [alice, bob])
      expect(await message(page, edited).getByRole('button', { name: /🎉/ }).count()).toBe(0);
  });

  it('a message left unsent goes out while its author is on another page', async () => {
    const sends = /\/trpc\/[^?]*messages\.send/;
    await alice.route(sends, (route) => route.abort());
    const text = 'Posted from the platform before the calendar';
    await send(alice, text);
    await expectVisible(notSent(text), 30_000);
    await openSection(alice, 'Calendar');
    await expectVisible(heading(alice, 'Calendar'));
    // The server is reachable again; alice stays on the calendar, and the app tries again by
    // itself after a pause.
    await alice.unroute(sends);
    await bobHasItOnce(text);
    await openSection(alice, 'Chats');
    await openConversation(alice, new RegExp(`^${names.bob}`));
    await expectVisible(message(alice, text));
    expect(await message(alice, text).getByRole('alert').count()).toBe(0);
  });

  it('safety numbers match on both sides', async () => {
    await alice.getByRole('button', { name: `Safety number with ${names.bob}` }).click();
    const aliceDialog = alice.getByRole('dialog', { name: `Safety number with ${names.bob}` });
    const aliceNumber = aliceDialog.getByRole('group', {
      name: `Safety number with ${names.bob}`,
    });
    await expectVisible(aliceNumber);

    await openConversationOnPhone(bob, names.alice);
    // In a phone's narrow header the actions are behind "More options", so the title keeps room.
    expect(
      await bob.getByRole('button', { name: `Safety number with ${names.alice}` }).count(),
    ).toBe(0);
    const more = bob.getByRole('button', { name: 'More options' });
    await more.click();
    await snap(bob, 'conversation-more-phone-dark');
    // Escape closes the list and leaves the focus on its button.
    await bob.keyboard.press('Escape');
    await expect.poll(() => more.getAttribute('aria-expanded')).toBe('false');
    expect(await more.evaluate((button) => button === document.activeElement)).toBe(true);
    await more.click();
    await bob.getByRole('button', { name: `Safety number with ${names.alice}` }).click();
    const bobNumber = bob
      .getByRole('dialog', { name: `Safety number with ${names.alice}` })
      .getByRole('group', { name: `Safety number with ${names.alice}` });
    await expectVisible(bobNumber);

    const digits = async (locator: Locator) =>
      ((await locator.textContent()) ?? '').replace(/\D/g, '');
    const fromAlice = await digits(aliceNumber);
    expect(fromAlice).toMatch(/^\d{60}$/);
    expect(await digits(bobNumber)).toBe(fromAlice);

    await aliceDialog.getByRole('button', { name: 'Mark as verified' }).click();
    await expectVisible(aliceDialog.getByText('Verified', { exact: true }));
    await snap(alice, 'safety-number-desktop');
    await snap(bob, 'safety-number-phone-dark');
    await aliceDialog.getByRole('button', { name: 'Close dialog' }).click();

    await alice
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Settings' })
      .click();
    const safety = alice.getByRole('region', { name: 'Safety numbers' });
    await expectVisible(safety.getByText('Verified', { exact: true }));
    await snap(alice, 'settings-desktop-e2ee', true);

    await bob.getByRole('button', { name: 'Close dialog' }).click();
    await bob.getByRole('link', { name: 'Back to conversations' }).click();
    await bob
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Settings' })
      .click();
    const bobSafety = bob.getByRole('region', { name: 'Safety numbers' });
    await expectVisible(bobSafety.getByText(names.alice, { exact: true }));
    await bobSafety.scrollIntoViewIfNeeded();
    await snap(bob, 'settings-safety-numbers-phone-dark');
  });

  it('the calendar opens on one day on a phone, and remembers the view picked', async () => {
    await openSection(bob, 'Calendar');
    await expectVisible(heading(bob, 'Calendar'));
    const views = bob.getByRole('group', { name: 'View' });
    const pressed = (name: string) =>
      views.getByRole('button', { name, exact: true }).getAttribute('aria-pressed');
    await expect.poll(() => pressed('Day')).toBe('true');
    // The actions fit one row: the shorter "Export" names the same button.
    await expectVisible(bob.getByRole('button', { name: 'Export', exact: true }));
    await snap(bob, 'calendar-phone-dark');
    await views.getByRole('button', { name: 'Week', exact: true }).click();
    await bob.reload();
    await expectVisible(heading(bob, 'Calendar'));
    await expect.poll(() => pressed('Week')).toBe('true');
    // Alice's desktop opens on the week.
    await openSection(alice, 'Calendar');
    await expect
      .poll(() =>
        alice
          .getByRole('group', { name: 'View' })
          .getByRole('button', { name: 'Week', exact: true })
          .getAttribute('aria-pressed'),
      )
      .toBe('true');
  });

  it('carol mutes the group on her browser: no notification until she unmutes it', async () => {
    // Carol's page records the notifications it would show, and reads as a background tab (only
    // then does a new message notify) while `mutedTestHidden` is set.
    await carol.context().addInitScript(() => {
      const w = window as unknown as {
        shownNotifications: { title: string; body: string }[];
        mutedTestHidden: boolean;
        Notification: unknown;
      };
      w.shownNotifications = [];
      w.mutedTestHidden = true;
      w.Notification = class {
        static permission = 'granted';
        static requestPermission = () => Promise.resolve('granted');
        onclick: (() => void) | null = null;
        constructor(title: string, options?: { body?: string }) {
          w.shownNotifications.push({ title, body: options?.body ?? '' });
        }
        close() {}
      };
      Object.defineProperty(document, 'visibilityState', {
        get: () => (w.mutedTestHidden ? 'hidden' : 'visible'),
      });
    });
    await carol.reload();
    await expectVisible(heading(carol, 'Chats'));
    const shown = () =>
      carol.evaluate(
        () =>
          (window as unknown as { shownNotifications: { title: string; body: string }[] })
            .shownNotifications,
      );
    const fromAlice = { title: 'Launch plans', body: `New message from ${names.alice}` };
    await openSection(alice, 'Chats');
    await openConversation(alice, /^Launch plans/);
    await send(alice, 'Lunch at noon?');
    await expect.poll(shown, { timeout: 20_000 }).toEqual([fromAlice]);
    // The background tab's title counts it.
    await expect.poll(() => carol.title()).toMatch(/^\(1\) Launch plans · SecureChat$/);

    await openConversation(carol, /^Launch plans/);
    await carol.getByRole('button', { name: 'Mute notifications' }).click();
    const dialog = carol.getByRole('dialog', { name: 'Mute notifications' });
    await dialog.getByLabel('For 8 hours').check();
    await snap(carol, 'mute-dialog-desktop');
    await dialog.getByRole('button', { name: 'Mute', exact: true }).click();
    await expectVisible(carol.getByText(/· Muted until/));
    await expectVisible(
      carol
        .getByRole('navigation', { name: 'Conversations' })
        .getByRole('link', { name: /^Launch plans\W*, muted/ }),
    );
    await send(alice, 'Or one o’clock?');
    await expectVisible(message(carol, 'Or one o’clock?'));
    await snap(carol, 'conversation-muted-desktop');
    // It arrived and shows; it notified nothing. Still so after a reload: the choice is kept.
    expect(await shown()).toEqual([fromAlice]);
    await carol.reload();
    await expectVisible(message(carol, 'Or one o’clock?'));
    await send(alice, 'Either works for me');
    await expectVisible(message(carol, 'Either works for me'));
    expect(await shown()).toEqual([]);
    // Nor does the title count what a muted conversation holds.
    expect(await carol.title()).not.toMatch(/^\(/);

    await carol.getByRole('button', { name: 'Unmute notifications' }).click();
    await expectVisible(carol.getByRole('button', { name: 'Mute notifications' }));
    await send(alice, 'Noon it is');
    await expect.poll(shown, { timeout: 20_000 }).toEqual([fromAlice]);
    await expect.poll(() => carol.title()).toMatch(/^\(\d+\) /);
    await carol.evaluate(() => {
      (window as unknown as { mutedTestHidden: boolean }).mutedTestHidden = false;
    });
  });

  it('ran without uncaught errors or Content Security Policy violations', () => {
    // The pages run under the server's own CSP, which must allow the WebAssembly that message
    // encryption compiles ('wasm-unsafe-eval') and nothing inline.
    expect(problems).toEqual([]);
  });
});

/** On the phone the list and a conversation are separate screens. */
async function openConversationOnPhone(page: Page, title: string): Promise<void> {
  if (await heading(page, title, 2).isVisible()) return;
  if (await page.getByRole('link', { name: 'Back to conversations' }).isVisible()) {
    await page.getByRole('link', { name: 'Back to conversations' }).click();
  }
  await openConversation(page, new RegExp(`^${title}`));
  await expectVisible(heading(page, title, 2));
}
