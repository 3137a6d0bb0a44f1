import { setTimeout as sleep } from 'node:timers/promises';
import { errorKind } from './error-kind.js';
import { WrongRowError } from './expect-row.js';
import type { BenchClient } from './open-clients.js';
import type { Contender } from './scenario.js';

/** What one timed run of one contender counted. */
export interface RunTally {
  /** Length of the timed window. */
  seconds: number;
  /** Successful operations completed inside the window. */
  ops: number;
  /** Failed operations completed inside the window. */
  errors: number;
  errorKinds: Record<string, number>;
  /** One message per error kind, for the report. */
  errorSamples: Record<string, string>;
  /** Latency (ms) of each successful operation completed inside the window. */
  latencies: number[];
  /** Driver statements of the operations completed inside the window (successful or not). */
  statements: number;
  /** Round trips of those operations (statements + postgres.js describe-first trips). */
  roundTrips: number;
  /** Statements Drizzle's logger saw for those operations. */
  logged: number;
  /** Process CPU (user + system, µs) spent during the window. */
  cpuMicros: number;
  /** Operations inside the window that reported `created: true`. */
  created: number;
  /** Operations inside the window that reported `created` at all. */
  reportedCreated: number;
  /** Successful operations from the first to the last (warm-up and tail included). */
  allSucceeded: number;
  /** Operations, warm-up and tail included, that returned no row or another key's or caller's row. */
  wrongRows: number;
}

/** A tally with nothing counted yet. */
export function emptyTally(): RunTally {
  return {
    seconds: 0,
    ops: 0,
    errors: 0,
    errorKinds: {},
    errorSamples: {},
    latencies: [],
    statements: 0,
    roundTrips: 0,
    logged: 0,
    cpuMicros: 0,
    created: 0,
    reportedCreated: 0,
    allSucceeded: 0,
    wrongRows: 0,
  };
}

/** Error counts by kind, and one message per kind. */
export type ErrorTally = Pick<RunTally, 'errorKinds' | 'errorSamples'>;

/** Adds `part`'s error kinds to `total`'s, keeping the first message seen per kind. */
export function addErrorKinds(total: ErrorTally, part: ErrorTally): void {
  for (const [kind, count] of Object.entries(part.errorKinds))
    total.errorKinds[kind] = (total.errorKinds[kind] ?? 0) + count;
  for (const [kind, message] of Object.entries(part.errorSamples))
    total.errorSamples[kind] ??= message;
}

/** Adds what every operation counts, timed or not (it touched the data), to `total`. */
export function addUntimed(total: RunTally, part: RunTally): void {
  total.allSucceeded += part.allSucceeded;
  total.wrongRows += part.wrongRows;
}

/** Adds what only the operations inside a timed window count to `total`. */
export function addTimed(total: RunTally, part: RunTally): void {
  total.seconds += part.seconds;
  total.ops += part.ops;
  total.errors += part.errors;
  addErrorKinds(total, part);
  for (const latency of part.latencies) total.latencies.push(latency);
  total.statements += part.statements;
  total.roundTrips += part.roundTrips;
  total.logged += part.logged;
  total.cpuMicros += part.cpuMicros;
  total.created += part.created;
  total.reportedCreated += part.reportedCreated;
}

/** How long operations may take to return once the timed window closed. */
const STOP_TIMEOUT_MS = 30_000;

/** How long to run. */
export interface RunTiming {
  warmupMs: number;
  durationMs: number;
  /** Collect the heap before the run (default `true`; needs Node's --expose-gc). */
  collectGarbage?: boolean;
}

/**
 * Runs `contender` on every client at once, each client in a closed loop (next operation as
 * soon as the last one returns), and counts what completes inside the timed window that
 * follows a warm-up. Counting completions (not starts) keeps the rate unbiased however long
 * single operations take.
 */
export async function measureRun<C extends BenchClient>(
  clients: readonly C[],
  contender: Contender<C>,
  nextKey: () => string,
  timing: RunTiming,
): Promise<RunTally> {
  const tally = emptyTally();
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let stopping = false;

  const loop = async (client: C) => {
    const counter = client.counter;
    while (!stopping) {
      const key = nextKey();
      const statements = counter.statements;
      const roundTrips = counter.roundTrips;
      const logged = counter.logged;
      const started = performance.now();
      let failure: { error: unknown } | undefined;
      let created: boolean | undefined;
      try {
        created = (await contender.op(client, key))?.created;
        tally.allSucceeded += 1;
      } catch (error) {
        failure = { error };
        if (error instanceof WrongRowError) tally.wrongRows += 1;
      }
      const finished = performance.now();
      if (finished < windowStart || finished > windowEnd) continue;
      tally.statements += counter.statements - statements;
      tally.roundTrips += counter.roundTrips - roundTrips;
      tally.logged += counter.logged - logged;
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
      tally.latencies.push(finished - started);
      if (created !== undefined) {
        tally.reportedCreated += 1;
        if (created) tally.created += 1;
      }
    }
  };

  // The garbage of the run before (another contender's, often a heavier allocator) is
  // collected now, not inside this run's window: every run starts from a collected heap.
  // `pnpm bench` starts Node with --expose-gc; without it this is skipped.
  if (timing.collectGarbage !== false) (globalThis as { gc?: () => void }).gc?.();
  // Operation errors are caught inside the loops, so `loops` only settles once all stopped.
  const loops = Promise.all(clients.map(loop));
  await sleep(timing.warmupMs);
  const cpuBefore = process.cpuUsage();
  windowStart = performance.now();
  await sleep(timing.durationMs);
  windowEnd = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  stopping = true;
  // A hung operation (a lock never granted, a pool waiting for a connection it will never get)
  // must fail the point, not the whole bench: closing the clients afterwards ends it.
  const timeout = new AbortController();
  const settled = await Promise.race([
    loops.then(() => true),
    sleep(STOP_TIMEOUT_MS, false, { signal: timeout.signal }).catch(() => false),
  ]);
  timeout.abort();
  if (!settled)
    throw new Error(
      `${contender.label}: operations still running ${STOP_TIMEOUT_MS / 1000} s after the window closed (hung)`,
    );
  tally.seconds = (windowEnd - windowStart) / 1000;
  tally.cpuMicros = cpu.user + cpu.system;
  return tally;
}
