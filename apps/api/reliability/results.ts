import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One row of the reliability results table: what was promised, what a run measured. */
export interface ReliabilityResult {
  /** The property under test, e.g. "kill -9 during sends: acknowledged sends lost". */
  property: string;
  /** The goal as written in the issue, e.g. "0 lost, 0 duplicated". */
  target: string;
  /** What this run measured, with units, e.g. "0 lost, 0 duplicated of 20,412". */
  measured: string;
  pass: boolean;
  /** Set when the test could not run here (the reason goes in `measured`); shown as skipped. */
  skipped?: boolean;
}

/** The repository's root directory. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/**
 * Everything one run of the suite writes (besides the docs it renders). RELIABILITY_DIR moves it,
 * so that two runs at once (say, of different files while developing) do not clear each other's.
 */
export const reliabilityDir = resolve(
  repoRoot,
  process.env.RELIABILITY_DIR || join('test-results', 'reliability'),
);
/**
 * The data directories and logs of every server the suite started, kept after each test so the
 * canary scan can read every database, WAL, file store and log of the run.
 */
export const runRoot = join(reliabilityDir, 'run');
/** Rows from every test file of one run, one JSON object per line; the renderer merges them. */
export const resultsLog = join(reliabilityDir, 'results.jsonl');

/** Records a row for the results table; call it before asserting, so a failure still shows. */
export function recordResult(result: ReliabilityResult): void {
  mkdirSync(dirname(resultsLog), { recursive: true });
  appendFileSync(
    resultsLog,
    `${JSON.stringify({ ...result, recordedAt: new Date().toISOString() })}\n`,
  );
}

export interface RecordedResult extends ReliabilityResult {
  recordedAt: string;
}

/** The rows recorded so far in this run, in order. */
export function readResults(): RecordedResult[] {
  if (!existsSync(resultsLog)) return [];
  return readFileSync(resultsLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedResult);
}
