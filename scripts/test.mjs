#!/usr/bin/env node
// `pnpm test`: typecheck, lint and format check, then every Vitest project (unit, integration
// against real servers, crypto in Node and Chromium, browser end-to-end). Ends with the line
// `N passed, N failed` counting the tests plus the three checks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });
const passthrough = process.argv.slice(2);

function run(label, command, args) {
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const { status } = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  console.log(
    `=== ${label}: ${status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return status === 0;
}

const checks = passthrough.length
  ? []
  : [
      ['typecheck', run('typecheck', 'pnpm', ['-r', '--workspace-concurrency=1', 'typecheck'])],
      ['lint', run('lint', 'pnpm', ['exec', 'eslint', '.'])],
      [
        'format',
        run('format', 'pnpm', ['exec', 'prettier', '--check', '.', '--log-level', 'warn']),
      ],
    ];

const report = join(results, 'vitest.json');
rmSync(report, { force: true });
run('tests', 'pnpm', [
  'exec',
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...passthrough,
]);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  passed = summary.numPassedTests;
  failed = summary.numFailedTests;
  skipped = summary.numPendingTests + summary.numTodoTests;
  // A suite that failed to load has no tests to count but is still a failure.
  failed += summary.testResults.filter(
    (file) => file.status === 'failed' && file.assertionResults.length === 0,
  ).length;
} catch {
  console.error('No Vitest report was written: counting the run as one failure.');
  failed += 1;
}
for (const [name, ok] of checks) {
  if (ok) passed += 1;
  else {
    failed += 1;
    console.log(`check failed: ${name}`);
  }
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
