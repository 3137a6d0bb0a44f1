import type pg from 'pg';

/** The channel graphile-worker 0.17 listens on for new jobs (whatever its schema). */
const CHANNEL = 'jobs:insert';

const shared = new WeakMap<pg.Pool, WakeUps>();

/**
 * The wake-ups of `pool`'s database: one per pool, however many `createJobs` share it, so an
 * application with a `jobs` per Drizzle database still coalesces into one stream of NOTIFYs.
 */
export function wakeUpsFor(pool: pg.Pool): WakeUps {
  let found = shared.get(pool);
  if (!found) shared.set(pool, (found = new WakeUps(pool)));
  return found;
}

/**
 * Wakes idle graphile-worker workers after jobs committed, the way `add_job` would have at
 * commit: `pg_notify('jobs:insert', '{"count":N}')` (each listening worker pool nudges up to N
 * of its workers). Wake-ups are coalesced — one NOTIFY in flight at a time, carrying every job
 * counted while the previous one ran — so however many transactions commit, the queue's
 * database sees a handful of short NOTIFY transactions instead of one in each of them.
 *
 * Why it is safe to lose one: the jobs are already committed; a wake-up only shortens the wait.
 * If the NOTIFY fails (queue unreachable) or the process dies before sending it, workers find
 * the jobs on their next poll (graphile-worker's `pollInterval`, 2 s by default).
 */
export class WakeUps {
  private pending = 0;
  private sending: Promise<void> | undefined;

  constructor(private readonly pool: pg.Pool) {}

  /** Counts `count` committed jobs; sends a wake-up now, or right after the one in flight. */
  add(count: number): void {
    // Nothing to send: starting a send now would settle before `sending` is even set.
    if (!(count > 0)) return;
    this.pending += count;
    this.sending ??= this.send();
  }

  /**
   * Resolves once every counted wake-up has been sent (or has failed and been logged), or
   * after `timeoutMs` — the NOTIFY of a database that stopped answering may never return —
   * logging how many jobs were left to the workers' next poll.
   */
  async idle(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(resolve, timeoutMs, 'gave up');
    });
    try {
      while (this.sending && Date.now() <= deadline) {
        if ((await Promise.race([this.sending, gaveUp])) === 'gave up') break;
      }
    } finally {
      clearTimeout(timer);
    }
    if (this.sending) {
      console.error(
        `[racefree] gave up waiting ${timeoutMs} ms for the workers' wake-up to be sent; jobs committed meanwhile run at the workers' next poll.`,
      );
    }
  }

  private async send(): Promise<void> {
    try {
      while (this.pending > 0) {
        const count = this.pending;
        this.pending = 0;
        try {
          await this.pool.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify({ count })]);
        } catch (error) {
          console.error(
            `[racefree] could not wake the workers for ${count} committed job(s); they run at the workers' next poll:`,
            error,
          );
        }
      }
    } finally {
      this.sending = undefined;
    }
  }
}
