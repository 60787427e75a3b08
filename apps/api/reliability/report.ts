import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import type { ProfileName } from './profile.ts';
import type { RecordedResult } from './results.ts';
import { reliabilityDir, repoRoot } from './results.ts';

export interface ReportMeta {
  profile: ProfileName;
  finishedAt: Date;
  /** Time spent in the suite's test files (they run one at a time), ms. */
  testMs: number;
}

export interface Report {
  profile: ProfileName;
  date: string;
  durationSeconds: number;
  machine: string;
  commit: string | null;
  passed: number;
  failed: number;
  skipped: number;
  results: RecordedResult[];
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function commitSummary(): string | null {
  const head = git(['rev-parse', '--short=12', 'HEAD']);
  if (!head) return null;
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  return dirty ? `${head} (with uncommitted changes)` : head;
}

function machineSummary(): string {
  const cores = cpus();
  const model = cores[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const memory = (totalmem() / 1024 ** 3).toFixed(1);
  return `${cores.length} × ${model}, ${memory} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

export function buildReport(results: RecordedResult[], meta: ReportMeta): Report {
  return {
    profile: meta.profile,
    date: meta.finishedAt.toISOString(),
    durationSeconds: Math.round(meta.testMs / 1000),
    machine: machineSummary(),
    commit: commitSummary(),
    passed: results.filter((r) => r.pass && !r.skipped).length,
    failed: results.filter((r) => !r.pass).length,
    skipped: results.filter((r) => r.skipped).length,
    results,
  };
}

const cell = (text: string) => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

export function renderMarkdown(report: Report): string {
  const command =
    report.profile === 'extended'
      ? '`RELIABILITY_PROFILE=extended pnpm test:reliability`'
      : '`pnpm test:reliability` (also part of `pnpm test`)';
  const other =
    report.profile === 'extended'
      ? 'The CI profile, with smaller counts, is in [reliability.md](reliability.md).'
      : 'The extended profile raises the counts (`RELIABILITY_PROFILE=extended`); its last results are in [reliability-extended.md](reliability-extended.md) when it has been run.';
  const lines = [
    `# Reliability and security results (${report.profile} profile)`,
    '',
    `Written by ${command} at the end of the run; not edited by hand. Each row is one test of` +
      ' `apps/api/reliability/`, recorded before it asserts.',
    other,
    '',
    `- Date: ${report.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`,
    `- Profile: ${report.profile}`,
    `- Machine: ${report.machine}`,
    `- Commit: ${report.commit ?? 'unknown (not a git checkout)'}`,
    `- Time in the suite's tests: ${Math.floor(report.durationSeconds / 60)} min ${report.durationSeconds % 60} s`,
    `- Result: ${report.passed} of ${report.results.length} properties pass` +
      (report.skipped ? `, ${report.skipped} skipped on this machine` : ''),
    '',
    '| Property | Target | Measured | Pass |',
    '| --- | --- | --- | --- |',
    ...report.results.map(
      (r) =>
        `| ${cell(r.property)} | ${cell(r.target)} | ${cell(r.measured)} | ${r.skipped ? 'skipped' : r.pass ? 'yes' : '**no**'} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

async function writeFormatted(file: string, text: string, parser: 'markdown' | 'json') {
  const options = (await resolveConfig(file)) ?? {};
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await format(text, { ...options, parser }));
}

/**
 * Writes the report as Markdown and JSON: always under test-results/reliability, and into docs/
 * when `toDocs` (a run of the whole suite; a run of single files must not replace the table).
 */
export async function writeReport(report: Report, toDocs: boolean): Promise<string[]> {
  const base = report.profile === 'extended' ? 'reliability-extended' : 'reliability';
  const dirs = [reliabilityDir, ...(toDocs ? [join(repoRoot, 'docs')] : [])];
  const written: string[] = [];
  for (const dir of dirs) {
    await writeFormatted(join(dir, `${base}.md`), renderMarkdown(report), 'markdown');
    await writeFormatted(join(dir, `${base}.json`), JSON.stringify(report), 'json');
    written.push(join(dir, `${base}.md`), join(dir, `${base}.json`));
  }
  return written;
}
