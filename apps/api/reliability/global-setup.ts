import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import type { TestProject } from 'vitest/node';
import { canaryLog } from './canary.ts';
import { resolveProfile } from './profile.ts';
import { buildReport, writeReport } from './report.ts';
import { readResults, reliabilityDir, repoRoot, resultsLog, runRoot } from './results.ts';
import { CANARY_SCAN_PROPERTY } from './scan-property.ts';

/**
 * Shared by the two reliability projects (the tests, then the canary scan): Vitest loads this
 * module once per project, so the run's state lives on globalThis of the main process. The first
 * setup clears the previous run's results and run directories; the last teardown renders them.
 */
interface RunState {
  projects: TestProject[];
  open: number;
}
const key = Symbol.for('securechat.reliability.run');
const store = globalThis as unknown as Record<symbol, RunState | undefined>;

export function setup(project: TestProject): () => Promise<void> {
  let state = store[key];
  if (!state) {
    // Validates RELIABILITY_PROFILE before anything runs.
    const profile = resolveProfile();
    rmSync(resultsLog, { force: true });
    rmSync(canaryLog, { force: true });
    rmSync(runRoot, { recursive: true, force: true });
    state = { projects: [], open: 0 };
    store[key] = state;
    console.log(
      `reliability: ${profile.name} profile, results in ${relative(repoRoot, reliabilityDir)}`,
    );
  }
  state.projects.push(project);
  state.open += 1;
  const run = state;
  return async () => {
    run.open -= 1;
    if (run.open > 0) return;
    store[key] = undefined;
    const results = readResults();
    if (results.length === 0) return;
    // Only a run of the whole suite (every test file of both projects, so the canary scan ran
    // last) replaces the table in docs/; a run of some files reports under test-results only.
    const whole =
      run.projects.length === 2 &&
      results.some((r) => r.property === CANARY_SCAN_PROPERTY) &&
      (await ranEveryFile(run.projects));
    const report = buildReport(results, {
      profile: resolveProfile().name,
      finishedAt: new Date(),
      testMs: suiteMs(run.projects),
    });
    const written = await writeReport(report, whole);
    console.log(
      `reliability: ${report.passed} of ${results.length} properties pass; wrote ${written
        .map((file) => relative(repoRoot, file))
        .join(', ')}`,
    );
  };
}

/** Whether every test file of `projects` ran (none was filtered out). */
async function ranEveryFile(projects: TestProject[]): Promise<boolean> {
  const ran = new Set(projects[0]!.vitest.state.getFiles().map((file) => file.filepath));
  for (const project of projects) {
    const { testFiles } = await project.globTestFiles();
    if (!testFiles.every((file) => ran.has(file))) return false;
  }
  return true;
}

/** Time spent in the test files of `projects` (one at a time, so about their wall time), ms. */
function suiteMs(projects: TestProject[]): number {
  const names = new Set(projects.map((p) => p.name));
  return projects[0]!.vitest.state
    .getFiles()
    .filter((file) => names.has(file.projectName ?? ''))
    .reduce((ms, file) => ms + (file.result?.duration ?? 0), 0);
}
