import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  expectVisible,
  heading,
  launchChromium,
  openPage,
  PHONE,
  problemWatcher,
  snap as snapPage,
  startServer,
  submitCredentials,
  type ServerProcess,
} from './support.ts';

// One user, two browsers: A is a desktop in light mode, B a phone in dark mode with an Android
// user agent, so the two sessions are told apart by name and both layouts get exercised.
const username = `e2e_${Date.now().toString(36)}`;
const password = 'violet harbour lantern 42';

let server: ServerProcess;
let browser: Browser;
let pageA: Page;
let pageB: Page;
const { problems, watch } = problemWatcher();

function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

function snap(page: Page, name: string): Promise<void> {
  // Full-page captures of the phone would paint its fixed tab bar mid-page: keep the viewport.
  return snapPage(page, name, page !== pageB);
}

/** Signs in from the sign-in page and waits for the page it leads to. */
async function signIn(page: Page, landsOn: string): Promise<void> {
  await submitCredentials(page, username, password, 'Sign in');
  await expectVisible(heading(page, landsOn));
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
  pageA = watch(await openPage(browser, DESKTOP), 'desktop');
  pageB = watch(await openPage(browser, PHONE), 'phone');
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('web app against the real server', () => {
  it('sends a visitor to sign-in, and registration shows the rules and field errors', async () => {
    await pageA.goto(`${server.url}/`);
    await expectVisible(heading(pageA, 'Sign in'));
    expect(pathOf(pageA)).toBe('/sign-in');
    await snap(pageA, 'sign-in-desktop');

    await pageA.getByRole('link', { name: 'Create an account' }).click();
    await expectVisible(heading(pageA, 'Create your account'));
    expect(pathOf(pageA)).toBe('/register');

    const passwordInput = pageA.getByLabel('Password', { exact: true });
    const lengthRule = pageA.getByRole('listitem').filter({ hasText: '10 to 256 characters' });
    await pageA.getByLabel('Username', { exact: true }).fill(username);
    await passwordInput.fill('short');
    expect(await lengthRule.textContent()).toContain('Not yet');
    expect(await pageA.getByText('Common, easily guessed passwords are refused').isVisible()).toBe(
      true,
    );

    await pageA.getByRole('button', { name: 'Create account' }).click();
    await expectVisible(pageA.getByText('Password must be at least 10 characters'));
    expect(await passwordInput.getAttribute('aria-invalid')).toBe('true');
    await snap(pageA, 'register-desktop');

    await passwordInput.fill(password);
    expect(await lengthRule.textContent()).toContain('Done');
    expect(await passwordInput.getAttribute('aria-invalid')).toBeNull();
  });

  it('registers, sets up encryption, stays signed in across a reload, signs out and in again', async () => {
    await pageA.getByRole('button', { name: 'Create account' }).click();
    await expectVisible(heading(pageA, 'Set up end-to-end encryption'));
    expect(pathOf(pageA)).toBe('/');
    await pageA.getByRole('button', { name: 'Set up encryption' }).click();
    await expectVisible(heading(pageA, 'Save your recovery key'));
    await pageA.getByLabel('I have saved my recovery key somewhere safe').check();
    await pageA.getByRole('button', { name: 'Continue to chats' }).click();
    await expectVisible(heading(pageA, 'Chats'));
    await expectVisible(pageA.getByText('No conversations yet'));
    await snap(pageA, 'chats-desktop');

    await pageA.reload();
    await expectVisible(heading(pageA, 'Chats'));
    expect(pathOf(pageA)).toBe('/');
    const account = pageA.getByRole('button', { name: `Account: ${username}` });
    await expectVisible(account);

    await account.click();
    await pageA.getByRole('button', { name: 'Sign out' }).click();
    await expectVisible(heading(pageA, 'Sign in'));
    expect(pathOf(pageA)).toBe('/sign-in');

    // Signed out means signed out on the server too: a reload stays on sign-in.
    await pageA.reload();
    await expectVisible(heading(pageA, 'Sign in'));

    // The same browser still holds its keys: the new session is tied to its device again.
    await signIn(pageA, 'Chats');
    expect(pathOf(pageA)).toBe('/');
    await expectVisible(pageA.getByText('No conversations yet'));
  });

  it('shows the other session live in Settings and revokes it, which signs that browser out', async () => {
    await pageA
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Settings' })
      .click();
    await expectVisible(heading(pageA, 'Settings'));
    const sessionsA = pageA.getByRole('region', { name: 'Sessions' });
    await expectVisible(sessionsA.getByText('This device'));
    await expect.poll(() => sessionsA.getByRole('listitem').count()).toBe(1);

    // The phone signs in while A's Settings page is open: A's list updates without a reload.
    // It asked for /settings, so after signing in it is taken back there.
    await pageB.goto(`${server.url}/settings`);
    await expectVisible(heading(pageB, 'Sign in'));
    await snap(pageB, 'sign-in-phone-dark');
    await signIn(pageB, 'Settings');
    expect(pathOf(pageB)).toBe('/settings');
    const sessionsB = pageB.getByRole('region', { name: 'Sessions' });
    await expectVisible(sessionsB.getByRole('button', { name: 'Revoke session Chrome on Linux' }));
    await snap(pageB, 'settings-phone-dark');
    // A second browser of an account with encryption asks for the recovery key.
    await pageB
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Chats' })
      .click();
    await expectVisible(heading(pageB, 'Unlock your messages on this browser'));
    await snap(pageB, 'recover-phone-dark');

    const revoke = sessionsA.getByRole('button', { name: 'Revoke session Chrome on Android' });
    await expectVisible(revoke);
    await expect.poll(() => sessionsA.getByRole('listitem').count()).toBe(2);
    await snap(pageA, 'settings-desktop');

    await revoke.click();
    await expect.poll(() => revoke.count()).toBe(0);
    await expect.poll(() => sessionsA.getByRole('listitem').count()).toBe(1);

    // The phone's next action finds its session gone and lands on sign-in; so does a reload.
    await pageB
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Settings' })
      .click();
    await expectVisible(heading(pageB, 'Sign in'));
    expect(pathOf(pageB)).toBe('/sign-in');
    await pageB.reload();
    await expectVisible(heading(pageB, 'Sign in'));
    expect(pathOf(pageB)).toBe('/sign-in');
  });

  it('change password reports a wrong current password beside the field', async () => {
    const current = pageA.getByLabel('Current password', { exact: true });
    await current.fill('not the right password');
    await pageA.getByLabel('New password', { exact: true }).fill('another long passphrase 7');
    await pageA.getByRole('button', { name: 'Change password' }).click();
    await expectVisible(pageA.getByText('Current password is wrong'));
    expect(await current.getAttribute('aria-invalid')).toBe('true');
    await expect
      .poll(() => current.evaluate((element) => element === document.activeElement))
      .toBe(true);
  });

  it('ran without uncaught errors or Content Security Policy violations', () => {
    expect(problems).toEqual([]);
  });
});
