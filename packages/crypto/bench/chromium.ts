/// <reference types="node" />
/**
 * Runs `suite.ts` in headless Chromium (Debian's, as the browser tests do): Vite bundles the
 * suite as it would for the web app, a loopback server hands it to the page (cross-origin
 * isolated, so `performance.now()` has its fine resolution), and the page's result comes back.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
    await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
    const result = await page.evaluate(async (opts) => {
      if (!crossOriginIsolated) throw new Error('the page is not cross-origin isolated');
      // A URL in a variable keeps TypeScript from resolving it as a module path.
      const url = '/suite.js';
      const suite = (await import(url)) as { runSuite: typeof runSuite };
      return suite.runSuite(opts);
    }, options);
    return { runtime: `Chromium ${browser.version()}`, ...result };
  } finally {
    await browser.close();
    server.close();
  }
}
