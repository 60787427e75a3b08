import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { needlesFor, scanForCanaries, type Canary } from './canary.ts';

// The scanner itself, on planted files outside the run directory: the final scan can only pass
// honestly if it finds a canary in every encoding it claims to look for.
const dir = mkdtempSync(join(tmpdir(), 'securechat-canary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const value = 'scCanary-message-0123456789abcdef01234567';
const planted: Canary = { kind: 'message', value, source: 'canary.test.ts' };

test('finds a canary in every encoding and alignment, and nothing in clean files', () => {
  const bytes = Buffer.from(value);
  const files: Record<string, Buffer> = {
    utf8: Buffer.concat([Buffer.from('{"text":"'), bytes, Buffer.from('"}')]),
    utf16le: Buffer.from(`xx${value}yy`, 'utf16le'),
    utf16be: Buffer.from(`x${value}`, 'utf16le').swap16(),
    hex: Buffer.from(Buffer.concat([Buffer.from([1, 2]), bytes]).toString('hex')),
    'hex-upper': Buffer.from(bytes.toString('hex').toUpperCase()),
    clean: Buffer.from('nothing to see'.repeat(1000)),
  };
  for (let shift = 0; shift < 3; shift++) {
    const wrapped = Buffer.concat([Buffer.alloc(shift, 0xfb), bytes, Buffer.from('tail')]);
    files[`base64-${shift}`] = Buffer.from(wrapped.toString('base64'));
    files[`base64url-${shift}`] = Buffer.from(wrapped.toString('base64url'));
  }
  // Straddling the scanner's 16 MiB read chunks.
  const big = Buffer.alloc(16 * 1024 * 1024 + 64, 0x20);
  bytes.copy(big, 16 * 1024 * 1024 - 10);
  files['chunk-boundary'] = big;
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);

  const report = scanForCanaries([dir], [planted]);
  const hit = new Set(report.findings.map((f) => basename(f.file)));
  expect([...hit].sort()).toEqual(
    Object.keys(files)
      .filter((n) => n !== 'clean')
      .sort(),
  );
  expect(report.files).toBe(Object.keys(files).length);
  expect(needlesFor(value).length).toBeGreaterThanOrEqual(8);
  expect(scanForCanaries([dir], []).findings).toEqual([]);
});
