/// <reference types="node" />
/**
 * Runs `suite.ts` in headless Chromium (Debian's, as the browser tests do): Vite bundles the
 * suite as it would for the web app, a loopback server hands it to the page (cross-origin
 * isolated, so `performance.now()` has its fine resolution), and the page's result comes back.
 * The page reads Chromium's CPU time through a function exposed from here (see
 * {@link chromiumCpuMs}).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pid } from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import { chromiumLaunchOptions } from '../../../vitest.chromium.ts';
import type { runSuite, SuiteOptions, SuiteResult } from './suite.ts';

/** The suite bundled by Vite for browsers: file name to code (the entry is `suite.js`). */
async function bundleSuite(): Promise<Map<string, string>> {
  const output = await build({
    configFile: false,
    root: fileURLToPath(new URL('..', import.meta.url)),
    // `error`: @hpke/common names Node's `crypto` as a fallback it never takes where WebCrypto
    // exists, and Vite warns that it is left out of the browser bundle.
    logLevel: 'error',
    build: {
      write: false,
      minify: true,
      lib: { entry: 'bench/suite.ts', formats: ['es'], fileName: 'suite' },
    },
  });
  const outputs = Array.isArray(output) ? output : [output as Rolldown.RolldownOutput];
  return new Map(
    outputs
      .flatMap((o) => o.output)
      .flatMap((f) => (f.type === 'chunk' ? [[f.fileName, f.code]] : [])),
  );
}

/** Runs `read`, or gives 0 for a process or thread that has just exited. */
function orZero(read: () => number): number {
  try {
    return read();
  } catch {
    return 0;
  }
}

/**
 * CPU time in ms of every thread of every process descended from this one: the browser, its
 * zygote, the renderer (where the page's WebCrypto work runs, on whichever threads) and the rest.
 * Read from `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds (`/proc/<pid>/stat` counts in
 * 10 ms ticks, too coarse here). Threads that exit between two readings drop out; Chromium keeps
 * its worker threads.
 */
function chromiumCpuMs(): number {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // The command name is in parentheses and may hold spaces: the parent id is the second field
    // after the last ')'.
    const ppid = orZero(() => {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    });
    parent.set(Number(entry), ppid);
  }
  const descends = (p: number) => {
    for (let q = parent.get(p); q !== undefined && q > 1; q = parent.get(q))
      if (q === pid) return true;
    return false;
  };
  let ns = 0;
  for (const p of parent.keys()) {
    if (!descends(p)) continue;
    const tasks = orZero(() => {
      let sum = 0;
      for (const task of readdirSync(`/proc/${p}/task`))
        sum += orZero(() =>
          Number(readFileSync(`/proc/${p}/task/${task}/schedstat`, 'utf8').split(' ')[0]),
        );
      return sum;
    });
    ns += tasks;
  }
  return ns / 1e6;
}

export async function runInChromium(
  options: Omit<SuiteOptions, 'cpuMs'>,
): Promise<SuiteResult & { runtime: string }> {
  const files = await bundleSuite();
  const server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    const code = files.get(req.url?.slice(1) ?? '');
    if (code !== undefined) {
      res.setHeader('Content-Type', 'text/javascript');
      res.end(code);
    } else {
      res.setHeader('Content-Type', 'text/html');
      res.end('<!doctype html><title>SecureChat crypto benchmark</title>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ ...chromiumLaunchOptions, headless: true });
  try {
    const page = await browser.newPage();
    await page.exposeFunction('chromiumCpuMs', chromiumCpuMs);
    await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
    const result = await page.evaluate(async (opts) => {
      if (!crossOriginIsolated) throw new Error('the page is not cross-origin isolated');
      // A URL in a variable keeps TypeScript from resolving it as a module path.
      const url = '/suite.js';
      const suite = (await import(url)) as { runSuite: typeof runSuite };
      // Passed as it is: a function written here would be named by tsx's `__name` helper,
      // which does not exist in the page.
      const { chromiumCpuMs } = globalThis as unknown as { chromiumCpuMs(): Promise<number> };
      return suite.runSuite({ ...opts, cpuMs: chromiumCpuMs });
    }, options);
    return { runtime: `Chromium ${browser.version()}`, ...result };
  } finally {
    await browser.close();
    server.close();
  }
}
