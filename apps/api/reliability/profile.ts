/**
 * How hard the reliability suite pushes. The `ci` profile runs inside `pnpm test` and must fit
 * well inside CI's time on two cores; `extended` (RELIABILITY_PROFILE=extended) is the long run
 * with the counts the targets are stated for.
 */
export type ProfileName = 'ci' | 'extended';

export interface Profile {
  name: ProfileName;
  kill: {
    /** Rounds of: burst of sends, kill -9 mid-burst, restart on the same data directory. */
    rounds: number;
    /** Concurrent sending clients per round. */
    clients: number;
    /** Acknowledged sends the whole test must reach, over all rounds. */
    minAckedSends: number;
  };
  load: {
    connections: number;
    seconds: number;
    /** Messages per second sent into the conversation all connections follow. */
    messagesPerSecond: number;
    /** p99 delivery latency goal, ms; null when the profile only reports it. */
    p99TargetMs: number | null;
    /** Largest allowed growth of the memory the server retains (heap and external after GC), 0..1. */
    maxMemoryGrowth: number | null;
  };
  fuzz: {
    /** Generated inputs per procedure. */
    runsPerProcedure: number;
  };
  writers: {
    processes: number;
    transactionsEach: number;
  };
}

const profiles: Record<ProfileName, Profile> = {
  ci: {
    name: 'ci',
    kill: { rounds: 5, clients: 8, minAckedSends: 20_000 },
    load: {
      connections: 500,
      seconds: 60,
      messagesPerSecond: 50,
      p99TargetMs: null,
      maxMemoryGrowth: null,
    },
    fuzz: { runsPerProcedure: 1_000 },
    writers: { processes: 4, transactionsEach: 5_000 },
  },
  extended: {
    name: 'extended',
    kill: { rounds: 50, clients: 8, minAckedSends: 200_000 },
    load: {
      connections: 2_000,
      seconds: 600,
      messagesPerSecond: 50,
      p99TargetMs: 250,
      maxMemoryGrowth: 0.1,
    },
    fuzz: { runsPerProcedure: 10_000 },
    writers: { processes: 4, transactionsEach: 5_000 },
  },
};

/** Reads RELIABILITY_PROFILE (unset or `ci`, or `extended`); anything else is a clear error. */
export function resolveProfile(value = process.env.RELIABILITY_PROFILE): Profile {
  if (value === undefined || value === '' || value === 'ci') return profiles.ci;
  if (value === 'extended') return profiles.extended;
  throw new Error(`RELIABILITY_PROFILE: must be ci or extended, got "${value}"`);
}

/** The profile of this run. */
export const profile: Profile = resolveProfile();
