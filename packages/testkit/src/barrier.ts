/**
 * A one-shot barrier: `wait()` resolves for everyone once `parties` callers have arrived.
 * This is how tests force callers to collide, instead of hoping timers line them up.
 */
export class Barrier {
  private arrived = 0;
  private release!: () => void;
  private readonly opened: Promise<void>;

  constructor(readonly parties: number) {
    if (!Number.isInteger(parties) || parties < 1)
      throw new Error(`Barrier needs at least one party, got ${parties}`);
    this.opened = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  /** Arrive and wait for the others. */
  async wait(): Promise<void> {
    this.arrived += 1;
    if (this.arrived > this.parties)
      throw new Error(`Barrier for ${this.parties} reached by ${this.arrived} callers`);
    if (this.arrived === this.parties) this.release();
    return this.opened;
  }
}

/** Every caller's outcome, in caller order. */
export interface RaceOutcome<T> {
  results: T[];
  errors: unknown[];
  settled: PromiseSettledResult<T>[];
}

/**
 * Runs `callers` copies of `fn`, all released at once on a barrier, and collects every result
 * and every error (nothing is thrown). The callers share whatever pool `fn` uses, so the pool
 * size bounds the real concurrency: keep it at 20 connections or fewer.
 */
export async function race<T>(
  callers: number,
  fn: (caller: number) => Promise<T>,
): Promise<RaceOutcome<T>> {
  const barrier = new Barrier(callers);
  const settled = await Promise.allSettled(
    Array.from({ length: callers }, async (_, caller) => {
      await barrier.wait();
      return fn(caller);
    }),
  );
  return {
    settled,
    results: settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
    errors: settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : [])),
  };
}
