import { buildWeb } from './support.ts';

/** Builds the web app once, as `pnpm start` does, so every browser test serves current code. */
export default async function setup(): Promise<void> {
  await buildWeb();
}
