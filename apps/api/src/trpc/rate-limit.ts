/**
 * A token bucket per key (session or address): `perMinute` calls a minute on average, with
 * bursts of up to a tenth of that. Buckets idle long enough to be full are forgotten.
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now) {
  const capacity = Math.max(10, Math.ceil(perMinute / 10));
  const refillPerMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  return {
    /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
    take(key: string): number {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at: t };
      bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * refillPerMs);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000));
    },
    sweep(): void {
      const t = now();
      for (const [key, bucket] of buckets) {
        if (bucket.tokens + (t - bucket.at) * refillPerMs >= capacity) buckets.delete(key);
      }
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
