import { afterAll, expect, it } from 'vitest';
import type { RunnerTask, RunnerTestSuite } from 'vitest';
import { listProcedures } from './trpc-wire.ts';
import { recordResult } from './results.ts';
// The authorization suite has one case per procedure, named by its path, and a meta-test that
// fails when a procedure has none. It stays the one source of truth: importing it registers all
// of its tests here too, against their own real server, and this file records the outcome.
import '../test/authorization.test.ts';

const tests = (task: RunnerTask): RunnerTask[] =>
  task.type === 'suite' ? task.tasks.flatMap(tests) : [task];

it('finds the API procedures to check against', () => {
  expect(listProcedures().length).toBeGreaterThan(0);
});

// Vitest passes the suite second; its first parameter must be a destructuring pattern.
// eslint-disable-next-line no-empty-pattern
afterAll(({}, suite: RunnerTestSuite) => {
  const procedures = listProcedures().map((p) => p.path);
  const cases = tests(suite).filter((t) => procedures.includes(t.name));
  const covered = new Set(cases.map((t) => t.name));
  const missing = procedures.filter((path) => !covered.has(path));
  const failed = cases.filter((t) => t.result?.state !== 'pass').map((t) => t.name);
  const meta = tests(suite).find((t) => t.name === 'covers every procedure of the API');
  recordResult({
    property: 'Authorization: every procedure has a case proving an outsider is refused',
    target: 'a case for each procedure, all passing; the suite fails when one lacks a case',
    measured:
      `${covered.size} of ${procedures.length} procedures have a case, ${cases.length - failed.length} pass` +
      (missing.length ? `; missing: ${missing.join(', ')}` : '') +
      (failed.length ? `; failing: ${failed.join(', ')}` : '') +
      `; coverage meta-test ${meta?.result?.state ?? 'did not run'}`,
    pass: missing.length === 0 && failed.length === 0 && meta?.result?.state === 'pass',
  });
});
