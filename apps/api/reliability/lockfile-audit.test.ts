import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  compareVersions,
  compromisedVersions,
  dependencyFloors,
  dependentsOf,
  lockedPackages,
  missingFix,
} from './dependency-floors.ts';
import { recordResult, repoRoot } from './results.ts';

/**
 * Known-vulnerable versions, from the lockfile: the registry's audit service is out of reach
 * here, so every locked version of each security-relevant dependency is checked against the
 * first fixed version of its advisory (dependency-floors.ts).
 */
const lockfile = readFileSync(join(repoRoot, 'pnpm-lock.yaml'), 'utf8');
const locked = lockedPackages(lockfile);

describe('lockfile audit', () => {
  test('the lockfile parser finds the packages the server runs on', () => {
    for (const name of ['ws', '@trpc/server', 'better-sqlite3', 'zod']) {
      expect(locked.get(name)?.size, name).toBeGreaterThan(0);
    }
    expect(missingFix('8.17.0', ['8.17.1', '7.5.10'])).toBe('8.17.1');
    expect(missingFix('7.5.9', ['8.17.1', '7.5.10'])).toBe('7.5.10');
    expect(missingFix('8.23.0', ['8.21.0'])).toBeNull();
    expect(missingFix('9.0.0', ['8.21.0'])).toBeNull();
    expect(missingFix('4.0.0', ['5.2.4', '8.17.1'])).toBe('5.2.4');
    expect(missingFix('0.18.20', ['0.25.0'])).toBe('0.25.0');
    expect(compareVersions('11.8.0-rc.1', '11.8.0')).toBeLessThan(0);
    const typescript = [...locked.get('typescript')!][0]!;
    expect(dependentsOf(lockfile, 'typescript', typescript)).toContain('@trpc/server');
  });

  for (const floor of dependencyFloors) {
    const versions = [...(locked.get(floor.name) ?? [])].sort(compareVersions);
    if (versions.length === 0) continue;
    test(`${floor.name}: every locked version has the fix (${floor.advisory})`, () => {
      const below = versions
        .map((version) => ({ version, fix: missingFix(version, floor.fixedIn) }))
        .filter((v) => v.fix !== null);
      // An accepted exception holds only while nothing else has come to depend on that version.
      const accepted = below.filter((v) => {
        const exception = floor.accepted?.find((a) => a.version === v.version);
        if (!exception) return false;
        const dependents = dependentsOf(lockfile, floor.name, v.version);
        return dependents.length > 0 && dependents.every((d) => exception.via.includes(d));
      });
      const failing = below.filter((v) => !accepted.includes(v));
      recordResult({
        property: `Dependency floor: ${floor.name} ≥ ${floor.fixedIn.join(' / ')} (${floor.advisory})`,
        target: 'every locked version at or above its line’s fix',
        measured:
          `locked ${versions.join(', ')}` +
          (failing.length
            ? `; BELOW: ${failing.map((v) => `${v.version} < ${v.fix}`).join(', ')}`
            : '') +
          accepted
            .map(
              (v) =>
                `; ${v.version} accepted: ${floor.accepted!.find((a) => a.version === v.version)!.reason}`,
            )
            .join(''),
        pass: failing.length === 0,
      });
      expect(failing).toEqual([]);
    });
  }

  test('no floor-listed dependency is missing from the table when locked, and no compromised version is locked', () => {
    const absent = dependencyFloors.filter((f) => !locked.has(f.name)).map((f) => f.name);
    const compromised = compromisedVersions.filter((c) => locked.get(c.name)?.has(c.version));
    recordResult({
      property:
        'Dependency audit: versions published by hijacked accounts (debug 4.4.2, chalk 5.6.1, …)',
      target: 'none locked',
      measured:
        `${compromised.length ? compromised.map((c) => `${c.name}@${c.version}`).join(', ') : 'none'} locked; ` +
        `${locked.size} packages in pnpm-lock.yaml, ${dependencyFloors.length - absent.length} with a floor checked` +
        (absent.length ? ` (not used: ${absent.join(', ')})` : ''),
      pass: compromised.length === 0,
    });
    expect(compromised).toEqual([]);
  });
});
