/// <reference types="node" />
/**
 * `pnpm bench`: throughput of Cobblestone-256 next to raw WebCrypto AES-256-GCM on the same
 * 64 MiB buffer in the same run, and message encrypt+sign / verify+decrypt rates (method in
 * `suite.ts`), measured in Node and then in headless Chromium with the same code: the package runs
 * in both, and their WebCrypto implementations cost very differently per call. Writes
 * bench/results.json and prints a table per runtime.
 *
 * `BENCH_RUNTIMES=node` (or `chromium`) runs one; `BENCH_ROUNDS`, `BENCH_MESSAGES` and
 * `BENCH_MESSAGE_ROUNDS` change the counts. The file records the machine and the load average
 * before and after, because this machine is shared.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { cpuUsage } from 'node:process';
import { fileURLToPath } from 'node:url';
import { round2, runSuite, TARGETS, type SuiteOptions, type SuiteResult } from './suite.ts';

const options: Omit<SuiteOptions, 'cpuMs'> = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 7),
  messages: Number(process.env.BENCH_MESSAGES ?? 2000),
  messageRounds: Number(process.env.BENCH_MESSAGE_ROUNDS ?? 5),
};
const runtimes = (process.env.BENCH_RUNTIMES ?? 'node,chromium').split(',');
const unknown = runtimes.filter((r) => r !== 'node' && r !== 'chromium');
if (unknown.length) throw new Error(`BENCH_RUNTIMES: unknown runtime ${unknown.join(', ')}`);
const cores = availableParallelism();
const loadAverageAtStart = loadavg().map(round2);

const results: Record<string, SuiteResult & { runtime: string }> = {};
if (runtimes.includes('node')) {
  const cpuMs = () => {
    const c = cpuUsage();
    return (c.user + c.system) / 1000;
  };
  results.node = { runtime: `node ${process.version}`, ...(await runSuite({ ...options, cpuMs })) };
}
if (runtimes.includes('chromium')) {
  // Loaded only now: with Vite and Playwright loaded first, Node's Cobblestone seal was measured
  // at about 330 ms of CPU instead of 225 ms.
  const { runInChromium } = await import('./chromium.ts');
  results.chromium = await runInChromium(options);
}

// With CPU time per message: the most this code could do with every core to itself.
const boundWithAllCoresIdle = (r: SuiteResult) => {
  const { concurrent64: c64, concurrent256: c256 } = r.messages;
  const bound = (a?: number, b?: number) =>
    a && b ? Math.round((cores * 1e6) / Math.min(a, b)) : undefined;
  return {
    encryptSign: bound(c64.encryptSignCpuUsPerMessage, c256.encryptSignCpuUsPerMessage),
    verifyDecrypt: bound(c64.verifyDecryptCpuUsPerMessage, c256.verifyDecryptCpuUsPerMessage),
  };
};

const file = {
  date: new Date().toISOString(),
  machine: {
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores,
    loadAverageAtStart,
    loadAverageAtEnd: loadavg().map(round2),
  },
  targets: TARGETS,
  runtimes: Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      { ...r, messages: { ...r.messages, boundWithAllCoresIdlePerSec: boundWithAllCoresIdle(r) } },
    ]),
  ),
};
const out = fileURLToPath(new URL('./results.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);

for (const r of Object.values(results)) {
  const c = r.cobblestone;
  const m = r.messages;
  console.log(`\n${r.runtime}`);
  console.table({
    'raw AES-256-GCM seal': {
      'MiB/s (median)': c.rawAesGcmSeal.medianMiBps,
      'MiB/s (best)': c.rawAesGcmSeal.bestMiBps,
      'CPU ms': c.rawAesGcmSeal.cpuMsMedian,
    },
    'Cobblestone seal': {
      'MiB/s (median)': c.cobblestoneSeal.medianMiBps,
      'MiB/s (best)': c.cobblestoneSeal.bestMiBps,
      'CPU ms': c.cobblestoneSeal.cpuMsMedian,
      'ratio to raw': c.sealRatioToRaw,
    },
    'raw AES-256-GCM open': {
      'MiB/s (median)': c.rawAesGcmOpen.medianMiBps,
      'MiB/s (best)': c.rawAesGcmOpen.bestMiBps,
      'CPU ms': c.rawAesGcmOpen.cpuMsMedian,
    },
    'Cobblestone open': {
      'MiB/s (median)': c.cobblestoneOpen.medianMiBps,
      'MiB/s (best)': c.cobblestoneOpen.bestMiBps,
      'CPU ms': c.cobblestoneOpen.cpuMsMedian,
      'ratio to raw': c.openRatioToRaw,
    },
  });
  const bound = boundWithAllCoresIdle(r);
  const f = m.engineFloor;
  console.table({
    'encrypt + sign': {
      'sequential msg/s': m.sequential.encryptSignPerSec,
      '64 in flight msg/s': m.concurrent64.encryptSignPerSec,
      '256 in flight msg/s': m.concurrent256.encryptSignPerSec,
      'CPU µs/msg (64)': m.concurrent64.encryptSignCpuUsPerMessage,
      'bound, idle cores': bound.encryptSign,
    },
    'verify + decrypt': {
      'sequential msg/s': m.sequential.verifyDecryptPerSec,
      '64 in flight msg/s': m.concurrent64.verifyDecryptPerSec,
      '256 in flight msg/s': m.concurrent256.verifyDecryptPerSec,
      'CPU µs/msg (64)': m.concurrent64.verifyDecryptCpuUsPerMessage,
      'bound, idle cores': bound.verifyDecrypt,
    },
    'engine floor: encrypt + sign': {
      '64 in flight msg/s': f.concurrent64.encryptSignPerSec,
      '256 in flight msg/s': f.concurrent256.encryptSignPerSec,
      'CPU µs/msg (64)': f.concurrent64.encryptSignCpuUsPerMessage,
      'ours / floor': f.encryptSignRatio,
    },
    'engine floor: verify + decrypt': {
      '64 in flight msg/s': f.concurrent64.verifyDecryptPerSec,
      '256 in flight msg/s': f.concurrent256.verifyDecryptPerSec,
      'CPU µs/msg (64)': f.concurrent64.verifyDecryptCpuUsPerMessage,
      'ours / floor': f.verifyDecryptRatio,
    },
  });
  const missed = Object.entries(r.meetsTargets).filter(([, ok]) => !ok);
  console.log(
    missed.length ? `targets missed: ${missed.map(([k]) => k).join(', ')}` : 'every target met',
  );
}
console.log(
  `\nload average: ${file.machine.loadAverageAtStart.join(' ')} at start, ${file.machine.loadAverageAtEnd.join(' ')} at end`,
);
console.log(`wrote ${out}`);
