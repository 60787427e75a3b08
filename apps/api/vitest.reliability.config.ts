import { defineConfig } from 'vitest/config';

// The extended profile's tests run for many minutes each (10 minutes of load, 50 kill rounds).
const minutes = process.env.RELIABILITY_PROFILE === 'extended' ? 90 : 20;

/**
 * The reliability and security suite (`pnpm test:reliability`): faults, load, storage, hostile
 * input and supply chain, each test recording a row of docs/reliability.md. It runs in a group
 * of its own (groupOrder), so no other project's tests run beside it, and one file at a time,
 * since its tests load the machine; the canary scan (vitest.reliability-scan.config.ts) runs
 * after it.
 */
export default defineConfig({
  test: {
    name: 'reliability',
    include: ['reliability/**/*.test.ts'],
    exclude: ['reliability/canary-scan.test.ts'],
    globalSetup: ['reliability/global-setup.ts'],
    fileParallelism: false,
    sequence: { groupOrder: 1 },
    testTimeout: minutes * 60_000,
    hookTimeout: 5 * 60_000,
  },
});
