/**
 * Preloaded into the API server process by the benchmark (`node --import tsx --import
 * ./bench/server-probe.ts src/main.ts`): adds the IPC probe (lib/probe.ts) and nothing else.
 */
import { installProbe } from './lib/probe.ts';

installProbe();
