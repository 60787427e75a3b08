import { relative } from 'node:path';
import { expect, test } from 'vitest';
import { registeredCanaries, scanForCanaries } from './canary.ts';
import { recordResult, repoRoot, runRoot } from './results.ts';
import { CANARY_SCAN_PROPERTY } from './scan-property.ts';

// The last test of the suite (its own project, run after `reliability`): every log, database,
// WAL and stored file the suite's servers wrote must be free of every canary, in every encoding.
test('no canary appears in any log, database, WAL or file store of the run', () => {
  const canaries = registeredCanaries();
  const kinds = [...new Set(canaries.map((c) => c.kind))].sort();
  const report = scanForCanaries([runRoot], canaries);
  const megabytes = (report.bytes / 1024 ** 2).toFixed(1);
  const findings = report.findings.map(
    (f) => `${f.kind} (${f.form}, from ${f.source}) in ${relative(runRoot, f.file)} at ${f.offset}`,
  );
  recordResult({
    property: CANARY_SCAN_PROPERTY,
    target: '0 found',
    measured:
      `${report.findings.length} found; ${canaries.length} canaries (${kinds.join(', ') || 'none'}) ` +
      `× ${canaries.length ? report.needles / canaries.length : 0} encodings in ${report.files} files, ${megabytes} MB` +
      (findings.length ? `: ${findings.slice(0, 5).join('; ')}` : ''),
    pass: report.findings.length === 0 && canaries.length > 0 && report.files > 0,
  });
  expect(
    canaries.length,
    `no canaries were registered: run the whole suite (${relative(repoRoot, runRoot)})`,
  ).toBeGreaterThan(0);
  expect(report.files).toBeGreaterThan(0);
  expect(findings).toEqual([]);
});
