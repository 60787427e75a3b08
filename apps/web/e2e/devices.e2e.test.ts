import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import {
  composer,
  DESKTOP,
  expectVisible as expectVisibleWithin,
  heading,
  message,
  launchChromium,
  openChats,
  openConversation,
  openPage,
  PHONE,
  problemWatcher,
  registerAndSetUp,
  send,
  snap,
  startConversation,
  startServer,
  submitCredentials,
  writeQrVideo,
  type ServerProcess,
} from './support.ts';

// alice on two browser contexts (two profiles, so two devices with their own IndexedDB): a
// desktop where she sets up encryption and chats with bob, and a phone that joins later by
// linking. The phone's user agent names it "Chrome on Android" in the confirmation.
const suffix = Date.now().toString(36).slice(-5);
const names = { alice: `alice_${suffix}`, bob: `bob_${suffix}` };
const password = 'amber quarry lantern 58';
const passphrase = 'granite puffin saddle orbit velvet cactus';

let server: ServerProcess;
let browser: Browser;
let alice: Page;
let alicePhone: Page;
let bob: Page;
const { problems, watch } = problemWatcher();
// The browser's one camera plays this video, written when a test points it at a QR code.
const cameraDir = mkdtempSync(join(tmpdir(), 'securechat-camera-'));
const camera = join(cameraDir, 'camera.y4m');

/** Linking crosses several round trips between two browsers: wait a little longer here. */
const WAIT = 20_000;

function expectVisible(locator: Locator, timeout = WAIT): Promise<void> {
  return expectVisibleWithin(locator, timeout);
}

async function signIn(page: Page, username: string, landsOn: string): Promise<void> {
  await page.goto(`${server.url}/sign-in`);
  await submitCredentials(page, username, password, 'Sign in');
  await expectVisible(heading(page, landsOn));
}

async function openSettings(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Settings' })
    .click();
  await expectVisible(heading(page, 'Settings'));
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium({ fakeCamera: camera });
  alice = watch(await openPage(browser, DESKTOP), 'alice');
  bob = watch(await openPage(browser, DESKTOP), 'bob');
  alicePhone = watch(await openPage(browser, PHONE), 'alice-phone');
});

// What each browser showed when a step failed, to tell a slow machine from a broken page.
beforeEach(() => {
  onTestFailed(async () => {
    for (const [name, page] of [
      ['alice', alice],
      ['alice-phone', alicePhone],
      ['bob', bob],
    ] as const) {
      await snap(page, `devices-failure-${name}`).catch(() => undefined);
    }
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(cameraDir, { recursive: true, force: true });
});

describe('linking, listing and revoking devices in the browser', () => {
  it('alice and bob set up encryption and exchange messages on their first devices', async () => {
    await Promise.all([
      registerAndSetUp(alice, server.url, names.alice, password, WAIT),
      registerAndSetUp(bob, server.url, names.bob, password, WAIT),
    ]);
    await startConversation(alice, names.bob, WAIT);
    await send(alice, 'The orchard gate code is 4471', WAIT);
    await openConversation(bob, new RegExp(names.alice));
    await expectVisible(message(bob, 'The orchard gate code is 4471'));
    await send(bob, 'Noted, see you by the old pear tree', WAIT);
    await expectVisible(message(alice, 'Noted, see you by the old pear tree'));
  });

  it('a second browser signs in as alice, is linked by its short code, and reads the earlier history', async () => {
    await signIn(alicePhone, names.alice, 'Unlock your messages on this browser');
    // The three ways in, preferred first and the reset last.
    const options = alicePhone.getByRole('button', {
      name: /^(Link from another device|Use recovery key or passphrase|Reset encryption identity)/,
    });
    expect(await options.allTextContents()).toEqual([
      expect.stringMatching(/^Link from another device/),
      expect.stringMatching(/^Use recovery key or passphrase/),
      'Reset encryption identity…',
    ]);
    await snap(alicePhone, 'device-unlock-choices-phone-dark');
    await alicePhone.getByRole('button', { name: /^Link from another device/ }).click();
    await expectVisible(heading(alicePhone, 'Link from another device'));
    await expectVisible(alicePhone.getByRole('img', { name: /QR code to link this browser/ }));
    const shown = alicePhone.getByRole('status', { name: 'Link code' });
    await expectVisible(shown);
    const first = (await shown.textContent()) ?? '';
    expect(first).toMatch(/^[0-9A-Z]{4}( [0-9A-Z]{4}){6}$/);
    // "New code" withdraws the request and shows another one.
    await alicePhone.getByRole('button', { name: 'New code' }).click();
    await expect.poll(async () => (await shown.textContent()) ?? first).not.toBe(first);
    const code = (await shown.textContent()) ?? '';
    expect(code).toMatch(/^[0-9A-Z]{4}( [0-9A-Z]{4}){6}$/);
    await expectVisible(alicePhone.getByText(/Expires in \d+:\d\d/));
    // A reload keeps the request: linking again shows the same code.
    await alicePhone.reload();
    await alicePhone.getByRole('button', { name: /^Link from another device/ }).click();
    await expect.poll(async () => (await shown.textContent()) ?? '').toBe(code);
    await shown.scrollIntoViewIfNeeded();
    await snap(alicePhone, 'device-link-code-phone-dark');

    // alice's desktop: Settings → Devices lists one device, this one.
    await openSettings(alice);
    const devices = alice.getByRole('region', { name: 'Devices' });
    const list = devices.getByRole('list', { name: 'Your devices' });
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);
    await expectVisible(list.getByText('This device'));

    await devices.getByRole('button', { name: 'Link a new device' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Link a new device' });
    // The withdrawn code leads nowhere.
    const field = dialog.getByLabel('Link code');
    await field.fill(first);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await expectVisible(dialog.getByText(/No link request of your account has this code/));
    // Typed as a person might: lower case, groups split by dashes instead of spaces.
    await field.fill(code.toLowerCase().replaceAll(' ', '-'));
    await dialog.getByRole('button', { name: 'Continue' }).click();
    const confirm = alice.getByRole('dialog', { name: 'Link this device?' });
    await expectVisible(confirm.getByText('Chrome on Android', { exact: true }));
    await snap(alice, 'device-link-confirm-desktop');
    await confirm.getByRole('button', { name: 'Link Chrome on Android' }).click();
    await expectVisible(devices.getByText('Chrome on Android is linked'));
    await expect.poll(() => list.getByRole('listitem').count()).toBe(2);

    // The phone receives the keys and history and goes on into the app.
    await expectVisible(alicePhone.getByText('This browser is linked.'), 30_000);
    await alicePhone.getByRole('button', { name: 'Continue to chats' }).click();
    await expectVisible(heading(alicePhone, 'Chats'));
    await openConversation(alicePhone, new RegExp(names.bob));
    await expectVisible(message(alicePhone, 'The orchard gate code is 4471'));
    await expectVisible(message(alicePhone, 'Noted, see you by the old pear tree'));
    await snap(alicePhone, 'device-linked-history-phone-dark');

    // New messages reach the linked device too, both ways.
    await send(bob, 'Bring a lantern', WAIT);
    await expectVisible(message(alicePhone, 'Bring a lantern'));
    await send(alicePhone, 'Sent from my phone', WAIT);
    await expectVisible(message(bob, 'Sent from my phone'));
  });

  it('rejects a mistyped code beside the field without changing anything', async () => {
    const devices = alice.getByRole('region', { name: 'Devices' });
    await devices.getByRole('button', { name: 'Link a new device' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Link a new device' });
    const field = dialog.getByLabel('Link code');
    await field.fill('ABCD');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    await expectVisible(dialog.getByText('The code has 28 characters; this one has 4.'));
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
  });

  it('renames the linked device and sets a backup passphrase, refusing a weak one', async () => {
    const devices = alice.getByRole('region', { name: 'Devices' });
    await devices.getByRole('button', { name: 'Rename Chrome on Android' }).click();
    const rename = alice.getByRole('dialog', { name: 'Rename device' });
    await rename.getByLabel('Device name').fill('Pocket phone');
    await rename.getByRole('button', { name: 'Save name' }).click();
    await expectVisible(devices.getByText('Pocket phone', { exact: true }));

    const backup = alice.getByRole('region', { name: 'Key backup' });
    await expectVisible(backup.getByText('Backup is on', { exact: true }), WAIT);
    await expectVisible(backup.getByText(/Not set/));
    await backup.getByRole('button', { name: 'Set a passphrase…' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Set a backup passphrase' });
    const field = dialog.getByLabel('New passphrase');
    await field.fill('sunshine123');
    await expectVisible(dialog.getByText(/60 needed/));
    await dialog.getByLabel('Repeat passphrase').fill('sunshine123');
    await dialog.getByRole('button', { name: 'Set passphrase' }).click();
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    await field.fill(passphrase);
    await expectVisible(dialog.getByText('Strong enough'));
    await snap(alice, 'device-backup-passphrase-desktop');
    await dialog.getByLabel('Repeat passphrase').fill(passphrase);
    await dialog.getByRole('button', { name: 'Set passphrase' }).click();
    await expectVisible(backup.getByText('Backup passphrase set.'), 60_000);
    await expectVisible(backup.getByText(/^Set: /));
    await snap(alice, 'device-settings-desktop', true);
  });

  it('revoking the phone signs it out; signed in again it shows it was revoked, and the passphrase brings the history back', async () => {
    const devices = alice.getByRole('region', { name: 'Devices' });
    await devices.getByRole('button', { name: 'Remove Pocket phone' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Remove Pocket phone?' });
    await expectVisible(dialog.getByText(/cannot decrypt anything sent from now on/));
    await snap(alice, 'device-revoke-confirm-desktop');
    await dialog.getByRole('button', { name: 'Remove device' }).click();
    await expectVisible(devices.getByText(/Pocket phone was removed/), 30_000);
    const list = devices.getByRole('list', { name: 'Your devices' });
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);

    // The phone's sessions ended, and it notices by itself: it lands on sign-in, also after a
    // reload.
    await expectVisible(heading(alicePhone, 'Sign in'));
    await alicePhone.reload();
    await expectVisible(heading(alicePhone, 'Sign in'));

    // Conversations got new keys: bob and alice's desktop still talk.
    await send(bob, 'After the phone was removed', WAIT);
    await openChats(alice);
    await openConversation(alice, new RegExp(names.bob));
    await expectVisible(message(alice, 'After the phone was removed'));

    // Signed in again, the phone says plainly that its keys were revoked.
    await signIn(alicePhone, names.alice, 'This browser’s encryption keys were revoked');
    await snap(alicePhone, 'device-revoked-phone-dark');

    // The backup passphrase unlocks it again, with the history from the key backup.
    await alicePhone.getByRole('button', { name: /^Use recovery key or passphrase/ }).click();
    await alicePhone.getByLabel('I set a backup passphrase').check();
    await alicePhone.getByLabel('Backup passphrase', { exact: true }).fill(passphrase);
    await alicePhone.getByRole('button', { name: 'Unlock messages' }).click();
    // Argon2id takes a few seconds; a refusal would show beside the field or as an alert.
    await expect
      .poll(
        async () =>
          // Back where it was before signing in: the chats, or the conversation itself.
          (await heading(alicePhone, 'Chats').isVisible()) ||
          (await composer(alicePhone).isVisible())
            ? 'unlocked'
            : (await alicePhone.locator('.field-error, [role="alert"]').allTextContents()).join(
                ' ',
              ) || 'pending',
        { timeout: 60_000 },
      )
      .toBe('unlocked');
    // A reload keeps it unlocked: the keys are in this browser's storage now.
    await alicePhone.goto(server.url);
    await expectVisible(heading(alicePhone, 'Chats'));
    await openConversation(alicePhone, new RegExp(names.bob));
    await expectVisible(message(alicePhone, 'The orchard gate code is 4471'));
    await expectVisible(message(alicePhone, 'After the phone was removed'));
  });

  it('links a third browser by scanning its QR code with the camera', async () => {
    const aliceLaptop = watch(await openPage(browser, DESKTOP), 'alice-laptop');
    await signIn(aliceLaptop, names.alice, 'Unlock your messages on this browser');
    await aliceLaptop.getByRole('button', { name: /^Link from another device/ }).click();
    const shown = aliceLaptop.getByRole('status', { name: 'Link code' });
    await expectVisible(shown);
    const code = (await shown.textContent()) ?? '';
    expect(code).toMatch(/^[0-9A-Z]{4}( [0-9A-Z]{4}){6}$/);
    // The camera of alice's desktop sees the QR code the laptop shows.
    writeQrVideo(camera, `securechat-link:${code.replaceAll(' ', '-')}`);

    await openSettings(alice);
    const devices = alice.getByRole('region', { name: 'Devices' });
    await devices.getByRole('button', { name: 'Link a new device' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Link a new device' });
    // Chromium on Linux has no QR reader of its own: ZXing's, loaded with the scan, reads it.
    expect(await alice.evaluate(() => 'BarcodeDetector' in window)).toBe(false);
    await dialog.getByRole('button', { name: 'Scan QR code' }).click();
    const confirm = alice.getByRole('dialog', { name: 'Link this device?' });
    await expectVisible(confirm.getByRole('button', { name: /^Link / }));
    // The camera is released once the code is read.
    expect(await alice.locator('video').count()).toBe(0);
    await confirm.getByRole('button', { name: /^Link / }).click();
    await expectVisible(aliceLaptop.getByText('This browser is linked.'), 30_000);
    await aliceLaptop.getByRole('button', { name: 'Continue to chats' }).click();
    await openConversation(aliceLaptop, new RegExp(names.bob));
    await expectVisible(message(aliceLaptop, 'After the phone was removed'));
    await aliceLaptop.context().close();
  });

  it('bob resets his encryption identity; alice, who verified him, accepts the new number before her reaction goes out', async () => {
    await openChats(alice);
    await openConversation(alice, new RegExp(names.bob));
    await alice.getByRole('button', { name: `Safety number with ${names.bob}` }).click();
    const safety = alice.getByRole('dialog', { name: `Safety number with ${names.bob}` });
    await safety.getByRole('button', { name: 'Mark as verified' }).click();
    await expectVisible(safety.getByText('Verified', { exact: true }));
    await safety.getByRole('button', { name: 'Close dialog' }).click();

    // bob has lost his recovery key and starts over on a new browser.
    const bobNew = watch(await openPage(browser, DESKTOP), 'bob-new');
    await signIn(bobNew, names.bob, 'Unlock your messages on this browser');
    await bobNew.getByRole('button', { name: 'Reset encryption identity…' }).click();
    const reset = bobNew.getByRole('dialog', { name: 'Reset encryption identity?' });
    await reset.getByLabel('I understand that my earlier messages will be lost').check();
    await reset.getByRole('button', { name: 'Reset encryption identity' }).click();
    await expectVisible(heading(bobNew, 'Save your recovery key'));
    await bobNew.getByLabel('I have saved my recovery key somewhere safe').check();
    await bobNew.getByRole('button', { name: 'Continue to chats' }).click();
    await expectVisible(heading(bobNew, 'Chats'));

    // alice reacts to one of bob's messages: her device keeps the reaction, and the
    // conversation says what holds it back.
    const mine = message(alice, 'After the phone was removed');
    await mine.hover();
    await mine.getByRole('button', { name: `React to message from ${names.bob}` }).click();
    await alice.getByRole('button', { name: 'React with 👍' }).click();
    const held = alice.getByRole('status').filter({ hasText: 'An edit or reaction is held back.' });
    await expectVisible(held);
    expect(await held.textContent()).toContain(`${names.bob}’s safety number changed.`);
    const review = alice.getByRole('button', { name: 'Review safety number' });
    await expectVisible(review);
    await snap(alice, 'reaction-held-safety-number-desktop');
    expect(await mine.getByRole('button', { name: /👍 1/ }).count()).toBe(0);

    // Accepting the new number sends it, with nothing more to press.
    await review.click();
    await safety.getByRole('button', { name: 'Accept new safety number' }).click();
    await expectVisible(safety.getByRole('button', { name: 'Mark as verified' }));
    await safety.getByRole('button', { name: 'Close dialog' }).click();
    await expectVisible(mine.getByRole('button', { name: /👍 1/ }), 30_000);
    await expect.poll(() => held.count()).toBe(0);

    // bob's new identity reads what alice sends from now on.
    await send(alice, 'Welcome back under your new number', WAIT);
    await openConversation(bobNew, new RegExp(names.alice));
    await expectVisible(message(bobNew, 'Welcome back under your new number'));
  });

  it('ran without uncaught errors or Content Security Policy violations', () => {
    expect(problems).toEqual([]);
  });
});
