import { deflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  composer,
  expectVisible,
  launchChromium,
  openConversation,
  openPage,
  problemWatcher,
  registerAndSetUp,
  snap,
  startConversation,
  startServer,
  type ServerProcess,
} from './support.ts';

// Two people in two browser contexts (two devices): alice sends bob an image; bob's browser
// decrypts its thumbnail and shows it inline.
const suffix = Date.now().toString(36).slice(-5);
const names = { alice: `alice_f${suffix}`, bob: `bob_f${suffix}` };
const password = 'copper kettle meadow 19';

let server: ServerProcess;
let browser: Browser;
let alice: Page;
let bob: Page;
const { problems, watch } = problemWatcher();

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A small RGB PNG: a diagonal gradient, `width` × `height`. */
function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) {
      rows.push(Math.round((255 * x) / width), Math.round((255 * y) / height), 160);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

beforeAll(async () => {
  // A 1 MiB limit, so the size error is quick to provoke.
  server = await startServer({ MAX_FILE_BYTES: String(1024 * 1024) });
  browser = await launchChromium();
  alice = watch(await openPage(browser, { viewport: { width: 1280, height: 800 } }), 'alice');
  bob = watch(await openPage(browser, { viewport: { width: 1280, height: 800 } }), 'bob');
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('encrypted files in the browser', () => {
  it('alice sends an image; bob sees its decrypted preview and can download it', async () => {
    await Promise.all([
      registerAndSetUp(alice, server.url, names.alice, password),
      registerAndSetUp(bob, server.url, names.bob, password),
    ]);
    await startConversation(alice, names.bob);

    expect(await alice.getByRole('button', { name: 'Attach file' }).isVisible()).toBe(true);
    await alice.getByTestId('attach-input').setInputFiles({
      name: 'sunset.png',
      mimeType: 'image/png',
      buffer: png(640, 400),
    });
    // The sender sees the preview too.
    await expectVisible(alice.getByRole('img', { name: 'sunset.png' }));

    await openConversation(bob, new RegExp(names.alice));
    const preview = bob.getByRole('img', { name: 'sunset.png' });
    await expectVisible(preview);
    await expect
      .poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(320);
    expect(await preview.evaluate((img: HTMLImageElement) => img.naturalHeight)).toBe(200);
    expect(await preview.getAttribute('src')).toMatch(/^blob:/);

    // The full file downloads, decrypted, byte for byte.
    const [download] = await Promise.all([
      bob.waitForEvent('download'),
      bob.getByRole('button', { name: 'Download sunset.png' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('sunset.png');
    const stream = await download.createReadStream();
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    expect(Buffer.concat(parts).equals(png(640, 400))).toBe(true);

    await snap(bob, 'file-preview-desktop');

    // The files panel lists it with its size and sender.
    await bob.getByRole('button', { name: 'Files in this conversation' }).click();
    const panel = bob.getByRole('list', { name: 'Files in this conversation' });
    await expectVisible(panel.getByText('sunset.png'));
    expect(await panel.textContent()).toContain(`from ${names.alice}`);
    await snap(bob, 'files-panel-desktop');
    // Show takes the reader to the message that shared it, also when asked again after leaving it.
    const focusedRow = () =>
      bob.evaluate(() => document.activeElement?.closest('[data-row-key]')?.textContent ?? '');
    await bob.getByRole('button', { name: 'Show sunset.png in the conversation' }).click();
    await expect.poll(() => panel.isVisible()).toBe(false);
    await expect.poll(focusedRow).toContain('sunset.png');
    await composer(bob).focus();
    await bob.getByRole('button', { name: 'Files in this conversation' }).click();
    await bob.getByRole('button', { name: 'Show sunset.png in the conversation' }).click();
    await expect.poll(focusedRow).toContain('sunset.png');

    expect(problems).toEqual([]);
  }, 90_000);

  it('a file over the size limit is refused plainly, and an upload can be cancelled', async () => {
    const input = alice.getByTestId('attach-input');
    await input.setInputFiles({
      name: 'too-big.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(1024 * 1024 + 1, 7),
    });
    const alert = alice.getByRole('alert').filter({ hasText: 'Could not send too-big.bin' });
    await expectVisible(alert);
    expect(await alert.textContent()).toContain('Files may be at most 1 MiB');
    await alice.getByRole('button', { name: 'Dismiss error for too-big.bin' }).click();
    await expect.poll(() => alert.count()).toBe(0);

    // The upload's PUT never gets an answer, so it stays in progress until cancelled.
    let held = 0;
    await alice.route(/\/files\/[0-9a-f]{32}$/, () => {
      held += 1;
    });
    await input.setInputFiles({
      name: 'slow.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('never arrives'),
    });
    const progress = alice.getByRole('progressbar', { name: 'Uploading slow.txt' });
    await expectVisible(progress);
    await expect.poll(() => held).toBe(1);
    await alice.getByRole('button', { name: 'Cancel upload' }).click();
    await expect.poll(() => progress.count()).toBe(0);
    await alice.unroute(/\/files\/[0-9a-f]{32}$/);
    expect(await alice.getByText('slow.txt').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 60_000);

  it('files dropped on the conversation or pasted into the composer are sent as cards', async () => {
    const transfer = (name: string) =>
      alice.evaluateHandle((fileName) => {
        const data = new DataTransfer();
        data.items.add(new File([`contents of ${fileName}`], fileName, { type: 'text/plain' }));
        return data;
      }, name);
    const section = alice.getByRole('region', { name: /^Conversation:/ });
    const dropped = await transfer('dropped.txt');
    await section.dispatchEvent('dragover', { dataTransfer: dropped });
    await section.dispatchEvent('drop', { dataTransfer: dropped });
    const pasted = await transfer('pasted.txt');
    await alice
      .getByRole('textbox', { name: 'Message composer' })
      .evaluate((element, clipboardData) => {
        element.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }),
        );
      }, pasted);
    for (const name of ['dropped.txt', 'pasted.txt']) {
      await expectVisible(bob.getByRole('button', { name: `Download ${name}` }));
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
