import { setTimeout as sleep } from 'node:timers/promises';
import { errorKind } from './error-kind.js';
import { WrongRowError } from './expect-row.js';
import type { BenchClient } from './open-clients.js';
import type { Contender } from './scenario.js';

/** What runs of one contender counted: operations completed inside the timed windows. */
export interface RunTally {
  seconds: number;
  ops: number;
  /** Keys the operations settled: one each, or as many as an operation says it settled. */
  keys: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** One message per error kind. */
  errorSamples: Record<string, string>;
  /** Latency (ms) of each successful operation. */
  latencies: number[];
  /** Sent during the windows (see StatementCounter). */
  statements: number;
  roundTrips: number;
  savepoints: number;
  /** Bench-process CPU (user + system, µs). */
  cpuMicros: number;
  /** Keys whose operations said whether they created a row, and the rows created. */
  reportedCreated: number;
  created: number;
  /** Warm-up and tail included (they touched the data too): successes, and wrong rows. */
  allSucceeded: number;
  wrongRows: number;
}

const NUMBERS = ['seconds', 'ops', 'errors', 'statements', 'roundTrips', 'savepoints', 'cpuMicros'];

export function emptyTally(): RunTally {
  const zeros = Object.fromEntries(
    [...NUMBERS, 'keys', 'reportedCreated', 'created', 'allSucceeded', 'wrongRows'].map((field) => [
      field,
      0,
    ]),
  );
  return { ...zeros, errorKinds: {}, errorSamples: {}, latencies: [] } as unknown as RunTally;
}

/** Adds `part` to `total`: counts summed, the first message per error kind kept. */
export function addTally(total: RunTally, part: RunTally): void {
  const sums = total as unknown as Record<string, number>;
  for (const [field, value] of Object.entries(part))
    if (typeof value === 'number') sums[field] = (sums[field] ?? 0) + value;
  for (const [kind, count] of Object.entries(part.errorKinds))
    total.errorKinds[kind] = (total.errorKinds[kind] ?? 0) + count;
  for (const [kind, message] of Object.entries(part.errorSamples))
    total.errorSamples[kind] ??= message;
  for (const latency of part.latencies) total.latencies.push(latency);
}

/** How long operations may take to return once the window closed before the point fails. */
const STOP_TIMEOUT_MS = 30_000;

export interface RunTiming {
  warmupMs: number;
  durationMs: number;
  /** Collect the heap first (needs Node's --expose-gc, which `pnpm bench` passes). */
  collectGarbage: boolean;
}

/**
 * Runs `contender` on every client at once, each in a closed loop (the next operation as soon
 * as the last returns), and counts what completes inside the timed window after the warm-up.
 * Counting completions, not starts, keeps the rate unbiased however long operations take.
 */
export async function measureRun(
  clients: readonly BenchClient[],
  contender: Contender,
  nextKey: () => string,
  timing: RunTiming,
): Promise<RunTally> {
  const tally = emptyTally();
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let stopping = false;

  const loop = async (client: BenchClient) => {
    while (!stopping) {
      const key = nextKey();
      const started = performance.now();
      let failure: { error: unknown } | undefined;
      let result: Awaited<ReturnType<Contender['op']>>;
      try {
        result = await contender.op(client, key);
        tally.allSucceeded += 1;
      } catch (error) {
        failure = { error };
        if (error instanceof WrongRowError) tally.wrongRows += 1;
      }
      const finished = performance.now();
      if (finished < windowStart || finished > windowEnd) continue;
      if (failure) {
        const kind = errorKind(failure.error);
        tally.errors += 1;
        tally.errorKinds[kind] = (tally.errorKinds[kind] ?? 0) + 1;
        tally.errorSamples[kind] ??= String((failure.error as Error)?.message ?? failure.error)
          .split('\n')[0]
          ?.slice(0, 200) as string;
        continue;
      }
      tally.ops += 1;
      tally.keys += result?.keys ?? 1;
      tally.latencies.push(finished - started);
      if (result?.created !== undefined) {
        tally.reportedCreated += result.keys ?? 1;
        tally.created += Number(result.created);
      }
    }
  };

  // The garbage of the run before (often a heavier allocator's) is collected now, not inside
  // this run's window.
  if (timing.collectGarbage) (globalThis as { gc?: () => void }).gc?.();
  // Operation errors are caught in the loops: `loops` settles only once all have stopped.
  const loops = Promise.all(clients.map(loop));
  await sleep(timing.warmupMs);
  // What the clients sent during the window (pooled clients share one counter).
  const counters = [...new Set(clients.map((c) => c.counter))];
  const sent = (field: 'statements' | 'roundTrips' | 'savepoints') =>
    counters.reduce((n, c) => n + c[field], 0);
  const before = {
    statements: sent('statements'),
    roundTrips: sent('roundTrips'),
    savepoints: sent('savepoints'),
  };
  const cpuBefore = process.cpuUsage();
  windowStart = performance.now();
  await sleep(timing.durationMs);
  windowEnd = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  for (const field of ['statements', 'roundTrips', 'savepoints'] as const)
    tally[field] = sent(field) - before[field];
  stopping = true;
  // A hung operation (a lock never granted) fails the point, not the bench: closing the
  // clients afterwards ends it.
  const timeout = new AbortController();
  const settled = await Promise.race([
    loops.then(() => true),
    sleep(STOP_TIMEOUT_MS, false, { signal: timeout.signal }).catch(() => false),
  ]);
  timeout.abort();
  if (!settled)
    throw new Error(
      `${contender.label}: still running ${STOP_TIMEOUT_MS / 1000} s after the window closed (hung)`,
    );
  tally.seconds = (windowEnd - windowStart) / 1000;
  tally.cpuMicros = cpu.user + cpu.system;
  return tally;
}
