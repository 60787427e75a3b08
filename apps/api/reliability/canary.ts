import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { reliabilityDir } from './results.ts';

/**
 * Canaries: unique marker strings that tests use as the plaintext side of secrets (a message's
 * text before encryption, a file name, an event title, a password, a session token). The server
 * must never store or log them, so after the whole suite the scan (canary-scan.test.ts) looks for
 * each one, in several encodings, in every file the suite's servers wrote.
 */
export type CanaryKind =
  'message' | 'file-name' | 'file-content' | 'event-title' | 'password' | 'token' | 'private-key';

export interface Canary {
  kind: CanaryKind;
  value: string;
  /** The test file that registered it, for the report. */
  source: string;
}

/** Every canary of the run, one JSON object per line (tests run in separate workers). */
export const canaryLog = join(reliabilityDir, 'canaries.jsonl');

function register(entry: Canary): void {
  mkdirSync(dirname(canaryLog), { recursive: true });
  appendFileSync(canaryLog, `${JSON.stringify(entry)}\n`);
}

function callerFile(): string {
  const stack = new Error().stack?.split('\n') ?? [];
  const frame = stack.find((line) => line.includes('.test.ts'));
  const match = frame?.match(/([^/\\(]+\.test\.ts)/);
  return match?.[1] ?? 'unknown';
}

/**
 * A new marker for plaintext-side content of `kind`, registered for the scan. Use it verbatim
 * as the secret (it is long and random enough to be unique), e.g. as the text a client encrypts.
 */
export function canary(kind: CanaryKind): string {
  const value = `scCanary-${kind}-${randomBytes(12).toString('hex')}`;
  register({ kind, value, source: callerFile() });
  return value;
}

/**
 * Registers a secret the test did not choose, such as a session token the server issued, so the
 * scan looks for it too. Values shorter than 12 characters are refused: they could match by chance.
 */
export function watchSecret(kind: CanaryKind, value: string): void {
  if (value.length < 12) throw new Error(`watchSecret: "${kind}" value too short to scan for`);
  register({ kind, value, source: callerFile() });
}

/** The canaries registered so far in this run. */
export function registeredCanaries(): Canary[] {
  if (!existsSync(canaryLog)) return [];
  return readFileSync(canaryLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Canary);
}

export interface Needle {
  form: string;
  bytes: Buffer;
}

/**
 * The part of base64(prefix + bytes) that depends only on `bytes`, for each of the three
 * alignments the bytes can have inside a longer encoded buffer.
 */
function base64Cores(bytes: Buffer, url: boolean): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString(
      url ? 'base64url' : 'base64',
    );
    const start = (Math.ceil(shift / 3) * 3 * 4) / 3;
    const end = (Math.floor((shift + bytes.length) / 3) * 3 * 4) / 3;
    cores.push(encoded.slice(start, end));
  }
  return cores;
}

/** The byte strings that would betray `value`: UTF-8, UTF-16LE/BE, hex, base64 and base64url. */
export function needlesFor(value: string): Needle[] {
  const utf8 = Buffer.from(value, 'utf8');
  const utf16le = Buffer.from(value, 'utf16le');
  const utf16be = Buffer.from(utf16le).swap16();
  const needles: Needle[] = [
    { form: 'utf-8', bytes: utf8 },
    { form: 'utf-16le', bytes: utf16le },
    { form: 'utf-16be', bytes: utf16be },
    { form: 'hex', bytes: Buffer.from(utf8.toString('hex')) },
    { form: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase()) },
  ];
  base64Cores(utf8, false).forEach((core, shift) =>
    needles.push({ form: `base64 (offset ${shift})`, bytes: Buffer.from(core) }),
  );
  base64Cores(utf8, true).forEach((core, shift) => {
    // Only where base64url differs from base64, to avoid reporting one finding twice.
    if (!/[-_]/.test(core)) return;
    needles.push({ form: `base64url (offset ${shift})`, bytes: Buffer.from(core) });
  });
  return needles;
}

export interface CanaryFinding {
  file: string;
  kind: CanaryKind;
  form: string;
  offset: number;
  source: string;
}

export interface ScanReport {
  files: number;
  bytes: number;
  needles: number;
  findings: CanaryFinding[];
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/**
 * Reads every file under `dirs` (chunk by chunk, overlapping so no match is split) and reports
 * each canary found in any of its encodings.
 */
export function scanForCanaries(dirs: string[], canaries: Canary[]): ScanReport {
  const needles = canaries.flatMap((c) => needlesFor(c.value).map((n) => ({ ...n, canary: c })));
  const longest = Math.max(1, ...needles.map((n) => n.bytes.length));
  const chunkSize = 16 * 1024 * 1024;
  const report: ScanReport = { files: 0, bytes: 0, needles: needles.length, findings: [] };
  for (const file of dirs.flatMap(listFiles)) {
    report.files += 1;
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(chunkSize + longest);
      let position = 0;
      let carried = 0;
      const found = new Set<Needle>();
      for (;;) {
        const read = readSync(fd, buffer, carried, chunkSize, position);
        const length = carried + read;
        const window = buffer.subarray(0, length);
        for (const needle of needles) {
          if (found.has(needle)) continue;
          const at = window.indexOf(needle.bytes);
          if (at === -1) continue;
          found.add(needle);
          report.findings.push({
            file,
            kind: needle.canary.kind,
            form: needle.form,
            offset: position - carried + at,
            source: needle.canary.source,
          });
        }
        report.bytes += read;
        if (read === 0) break;
        position += read;
        carried = Math.min(longest - 1, length);
        buffer.copy(buffer, 0, length - carried, length);
      }
    } finally {
      closeSync(fd);
    }
  }
  return report;
}
