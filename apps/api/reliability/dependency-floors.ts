/**
 * The lowest safe version of each security-relevant dependency, with the advisory that set it.
 * The registry's audit service cannot be reached from the machines this suite runs on, so
 * lockfile-audit.test.ts checks pnpm-lock.yaml against this table instead. When an advisory is
 * published for a dependency, add its first fixed version(s) here.
 *
 * `fixedIn` lists the first fixed version of each release line: a version is vulnerable when a
 * fix exists on its major line and it is below that fix, or when it is older than every fix.
 */
export interface DependencyFloor {
  name: string;
  fixedIn: string[];
  advisory: string;
  /**
   * Versions known to be below the floor but unaffected where this project uses them: accepted
   * only while `via` (package names) are the only packages in the lockfile that depend on them.
   */
  accepted?: { version: string; via: string[]; reason: string }[];
}

export const dependencyFloors: DependencyFloor[] = [
  {
    name: 'ws',
    fixedIn: ['8.21.0', '7.5.10', '6.2.3', '5.2.4'],
    advisory:
      'project floor 8.21.0; CVE-2024-37890 / GHSA-3h5v-q93c-6h6q (DoS by many headers) fixed in 8.17.1',
  },
  {
    name: '@trpc/server',
    fixedIn: ['11.8.0'],
    advisory:
      'project floor 11.8.0; CVE-2025-43855 / GHSA-pj3v-9cm8-gvj8 (WebSocket connectionParams crash) fixed in 11.1.1',
  },
  {
    name: 'superjson',
    fixedIn: ['1.8.1'],
    advisory: 'CVE-2022-23631 / GHSA-5888-ffcr-r425 (prototype pollution to code execution)',
  },
  {
    name: 'vite',
    fixedIn: ['5.4.20', '6.3.6', '7.1.5'],
    advisory:
      'CVE-2025-30208, CVE-2025-31125, CVE-2025-32395, CVE-2025-58751 (dev server fs.deny bypasses)',
  },
  {
    name: 'esbuild',
    fixedIn: ['0.25.0'],
    advisory: 'GHSA-67mh-4wv8-2f99 (any website can read the serve() dev server)',
    accepted: [
      {
        version: '0.18.20',
        via: ['@esbuild-kit/core-utils'],
        reason:
          'only inside drizzle-kit (`pnpm db:generate`), which bundles the schema with build() and never starts serve()',
      },
    ],
  },
  {
    name: 'vitest',
    fixedIn: ['1.6.1', '2.1.9', '3.0.5'],
    advisory: 'CVE-2025-24964 / GHSA-9crc-q9x8-hgqq (remote code execution through the API server)',
  },
  {
    name: 'playwright',
    fixedIn: ['1.55.1'],
    advisory: 'CVE-2025-59288 (browser downloads without certificate checks)',
  },
  {
    name: 'react-router',
    fixedIn: ['7.5.2'],
    advisory: 'CVE-2025-43864, CVE-2025-43865 (cache poisoning, pre-render data spoofing)',
  },
  {
    name: 'cookie',
    fixedIn: ['0.7.0'],
    advisory:
      'CVE-2024-47764 / GHSA-pxg6-pf52-xh8x (out-of-bounds characters in cookie name, path, domain)',
  },
  {
    name: 'nanoid',
    fixedIn: ['3.3.8', '5.0.9'],
    advisory: 'CVE-2024-55565 / GHSA-mwcw-c2x4-8c55 (predictable ids for non-integer sizes)',
  },
  {
    name: 'cross-spawn',
    fixedIn: ['6.0.6', '7.0.5'],
    advisory: 'CVE-2024-21538 / GHSA-3xgq-45jj-v275 (ReDoS)',
  },
  {
    name: 'path-to-regexp',
    fixedIn: ['0.1.12', '1.9.0', '3.3.0', '6.3.0', '8.0.0'],
    advisory: 'CVE-2024-45296 / GHSA-9wv6-86v2-598j, CVE-2024-52798 (ReDoS)',
  },
  {
    name: 'tar',
    fixedIn: ['6.2.1'],
    advisory: 'CVE-2024-28863 / GHSA-f5x3-32g6-xq36 (DoS by deep folders)',
  },
  {
    name: 'tar-fs',
    fixedIn: ['1.16.6', '2.1.4', '3.1.1'],
    advisory: 'CVE-2025-48387, CVE-2025-59343 (extraction outside the target folder)',
  },
  {
    name: 'undici',
    fixedIn: ['5.29.0', '6.21.2', '7.5.0'],
    advisory:
      'CVE-2025-22150 (predictable multipart boundary), CVE-2025-47279 (DoS by bad certificates)',
  },
  {
    name: 'brace-expansion',
    fixedIn: ['1.1.12', '2.0.2', '3.0.1', '4.0.1'],
    advisory: 'CVE-2025-5889 / GHSA-v6h2-p8h4-qcjw (ReDoS)',
  },
  {
    name: 'micromatch',
    fixedIn: ['4.0.8'],
    advisory: 'CVE-2024-4067 / GHSA-952p-6rrq-rcjv (ReDoS)',
  },
  {
    name: 'braces',
    fixedIn: ['3.0.3'],
    advisory: 'CVE-2024-4068 / GHSA-grv7-fg5c-xmjg (memory exhaustion)',
  },
  {
    name: 'form-data',
    fixedIn: ['2.5.4', '3.0.4', '4.0.4'],
    advisory: 'CVE-2025-7783 / GHSA-fjxv-7rqg-78g4 (predictable multipart boundary)',
  },
  {
    name: 'postcss',
    fixedIn: ['8.4.31'],
    advisory: 'CVE-2023-44270 / GHSA-7fh5-64p2-3v2j (line return parsing)',
  },
  {
    name: 'semver',
    fixedIn: ['5.7.2', '6.3.1', '7.5.2'],
    advisory: 'CVE-2022-25883 / GHSA-c2qf-rxjj-qqgw (ReDoS)',
  },
  {
    name: 'json5',
    fixedIn: ['1.0.2', '2.2.2'],
    advisory: 'CVE-2022-46175 / GHSA-9c47-m6qq-7p4h (prototype pollution)',
  },
  {
    name: 'word-wrap',
    fixedIn: ['1.2.4'],
    advisory: 'CVE-2023-26115 / GHSA-j8xg-fqg3-53r7 (ReDoS)',
  },
  {
    name: '@babel/helpers',
    fixedIn: ['7.26.10'],
    advisory: 'CVE-2025-27789 / GHSA-968p-4wvh-cqc8 (inefficient RegExp in generated code)',
  },
  {
    name: 'zod',
    fixedIn: ['3.22.3'],
    advisory: 'CVE-2023-4316 / GHSA-m95q-7qp3-xv42 (ReDoS in email validation)',
  },
];

/**
 * Versions published by attackers (hijacked maintainer accounts, 2025-09-08): malware, whatever
 * their number. Any of them in the lockfile fails the audit.
 */
export const compromisedVersions: { name: string; version: string }[] = [
  { name: 'debug', version: '4.4.2' },
  { name: 'chalk', version: '5.6.1' },
  { name: 'ansi-styles', version: '6.2.2' },
  { name: 'ansi-regex', version: '6.2.1' },
  { name: 'strip-ansi', version: '7.1.1' },
  { name: 'supports-color', version: '10.2.1' },
  { name: 'wrap-ansi', version: '9.0.1' },
];

/** Compares dotted versions numerically; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split('-', 2) as [string, string | undefined];
    return { parts: core.split('.').map((n) => Number(n) || 0), pre: pre ?? null };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === null) return 1;
  if (y.pre === null) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/** The fix `version` must have, or null when it is at or above every fix that applies to it. */
export function missingFix(version: string, fixedIn: string[]): string | null {
  const major = version.split('.')[0];
  const sameLine = fixedIn.filter((f) => f.split('.')[0] === major);
  for (const fix of sameLine) if (compareVersions(version, fix) < 0) return fix;
  const lowest = [...fixedIn].sort(compareVersions)[0];
  if (sameLine.length === 0 && lowest && compareVersions(version, lowest) < 0) return lowest;
  return null;
}

/** Every `name@version` in the `packages:` section of a pnpm v9 lockfile. */
export function lockedPackages(lockfile: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const start = lockfile.search(/^packages:\s*$/m);
  if (start === -1) throw new Error('pnpm-lock.yaml has no packages: section');
  const body = lockfile.indexOf('\n', start) + 1;
  const end = lockfile.slice(body).search(/^\S/m);
  const section = lockfile.slice(body, end === -1 ? undefined : body + end);
  for (const match of section.matchAll(/^ {2}'?((?:@[^@/\s']+\/)?[^@\s']+)@([^('\s:]+)/gm)) {
    const [, name, version] = match as unknown as [string, string, string];
    if (!found.has(name)) found.set(name, new Set());
    found.get(name)!.add(version);
  }
  return found;
}

/** The packages (names) whose locked snapshot depends on exactly `name@version`. */
export function dependentsOf(lockfile: string, name: string, version: string): string[] {
  const start = lockfile.search(/^snapshots:\s*$/m);
  if (start === -1) return [];
  const dependents = new Set<string>();
  let current: string | null = null;
  const wanted = new RegExp(
    `^ {6}'?${name.replace(/[/.]/g, '\\$&')}'?: ${version.replace(/\./g, '\\.')}(\\(|$)`,
  );
  for (const line of lockfile.slice(start).split('\n').slice(1)) {
    if (/^\S/.test(line)) break;
    const key = line.match(/^ {2}'?((?:@[^@/\s']+\/)?[^@\s']+)@/);
    if (key) current = key[1]!;
    else if (current && wanted.test(line)) dependents.add(current);
  }
  return [...dependents].sort();
}
