import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createClient, type SecureChatClient } from '@securechat/client';
import WebSocket from 'ws';
import type { SeededUser } from './seed.ts';

/**
 * Send-to-receive latency on one clock: the sender and the few real receiving clients live in
 * the orchestrator process, so both ends read the same `performance.now()`. A message is tracked
 * by its client message id from the moment the send call starts until each expected real
 * receiver has it.
 */
export class LatencyTracker {
  /** Messages sent while true are sampled. */
  measuring = false;
  readonly samples: number[] = [];
  /** Messages the real clients received (they are receivers too: counted as deliveries). */
  delivered = 0;
  /** Called when every expected real receiver has a message (or its send failed). */
  onComplete: (() => void) | null = null;
  private readonly pending = new Map<string, { at: number; measured: boolean; left: number }>();

  /** Starts tracking a message, sent at `at`, that `receivers` real clients will get. */
  expect(clientMessageId: string, receivers: number, at: number): void {
    if (receivers === 0) return;
    this.pending.set(clientMessageId, {
      at,
      measured: this.measuring,
      left: receivers,
    });
  }

  received(clientMessageId: string): void {
    const now = performance.now();
    this.delivered += 1;
    const entry = this.pending.get(clientMessageId);
    if (!entry) return;
    if (entry.measured) this.samples.push(now - entry.at);
    entry.left -= 1;
    if (entry.left === 0) {
      this.pending.delete(clientMessageId);
      this.onComplete?.();
    }
  }

  /** A send that failed will never arrive. */
  forget(clientMessageId: string): void {
    if (this.pending.delete(clientMessageId)) this.onComplete?.();
  }

  get outstanding(): number {
    return this.pending.size;
  }

  reset(): void {
    this.samples.length = 0;
  }
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 0.5)),
    p90Ms: round(percentile(sorted, 0.9)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? null),
  };
}

export interface RealClient {
  close(): void;
}

export function stockClient(url: string, token: string): SecureChatClient {
  return createClient({
    url,
    token,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
}

/**
 * A real receiver on the API: the stock client (@securechat/client: `wsLink` + superjson) with an
 * `events.onEvent` subscription, reading each typed event. Resolves once the subscription started.
 */
export function trpcReceiver(
  url: string,
  user: SeededUser,
  lastEventId: number,
  tracker: LatencyTracker,
): Promise<RealClient> {
  const client = stockClient(url, user.token);
  return new Promise((resolve, reject) => {
    const subscription = client.api.events.onEvent.subscribe(
      {
        streamId: `bench-real-${randomBytes(6).toString('hex')}`,
        lastEventId: String(lastEventId),
      },
      {
        onStarted: () =>
          resolve({
            close() {
              subscription.unsubscribe();
              client.close();
            },
          }),
        onData: ({ data }) => {
          if (data.type === 'message') tracker.received(data.message.clientMessageId);
        },
        onError: (error) => reject(error),
      },
    );
  });
}

/** A real receiver on the raw reference server: a `ws` client that parses every frame. */
export function rawReceiver(port: number, tracker: LatencyTracker): Promise<RealClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/sub`);
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as {
      type: string;
      message: { clientMessageId: string };
    };
    if (event.type === 'message') tracker.received(event.message.clientMessageId);
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ close: () => ws.close() }));
    ws.once('error', reject);
  });
}
