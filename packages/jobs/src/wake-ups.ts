import type pg from 'pg';

/** The channel graphile-worker 0.17 listens on for new jobs (whatever its schema). */
const CHANNEL = 'jobs:insert';
/** A NOTIFY answers in about a millisecond; one that has not in 5 s is not coming. */
const NOTIFY_TIMEOUT_MS = 5000;

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
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => {
      // setTimeout fires at once for delays past 2^31 - 1 ms: those wait unbounded instead.
      if (timeoutMs <= 2_147_483_647) timer = setTimeout(resolve, timeoutMs, 'gave up');
    });
    try {
      while (this.sending) {
        if ((await Promise.race([this.sending, gaveUp])) === 'gave up') break;
      }
    } finally {
      clearTimeout(timer);
    }
    if (this.sending) {
      console.error(
        `[racefree] gave up waiting ${timeoutMs} ms for the workers' wake-up to be sent; ${this.pending} more committed job(s) counted meanwhile run at the workers' next poll if it never goes out.`,
      );
    }
  }

  private async send(): Promise<void> {
    try {
      while (this.pending > 0) {
        const count = this.pending;
        this.pending = 0;
        try {
          // Bounded: a server that stopped answering would otherwise keep the pooled client
          // (and a pool.end() after close()) waiting for good. Timed out, pg drops the client.
          const notify: pg.QueryConfig & { query_timeout: number } = {
            text: 'select pg_notify($1, $2)',
            values: [CHANNEL, JSON.stringify({ count })],
            query_timeout: NOTIFY_TIMEOUT_MS, // read by pg, missing from its types
          };
          await this.pool.query(notify);
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
