import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import type { Job } from 'graphile-worker';
import type { BackgroundWork } from './background-work.js';
import { pgExecutor, type Queue } from './queue.js';

/** The attempt of a job that failed, as its task saw it. */
export type FailedAttempt = Pick<Job, 'id' | 'revision' | 'attempts' | 'max_attempts'>;

/** First pause before trying, then doubling up to `MAX_PAUSE_MS`. */
const FIRST_PAUSE_MS = 5;
const MAX_PAUSE_MS = 1000;
/** After this long the job is left to its retry (graphile-worker's 4-hour lock, a dead worker). */
const GIVE_UP_MS = 60_000;

/**
 * Fails a job for good once graphile-worker has recorded the failed attempt that called this:
 * `permanently_fail_jobs` (its public admin function) sets `attempts = max_attempts` and
 * `last_error = message`, so the job is never fetched again. It skips locked jobs, and the
 * attempt holds the lock until graphile-worker records its failure right after the task
 * throws — so this runs in the background, first a few milliseconds later, then again with
 * growing pauses while the job is still locked. The retry graphile-worker scheduled is
 * `exp(attempts)` seconds away (2.7 s at the least), far beyond the usual wait.
 *
 * Only the job as that attempt left it is failed: the same id, `revision` (a keyed `add_job`
 * that replaced the payload meanwhile bumps it) and `attempts` (a later attempt that already
 * started fails itself). A crash, a `close()` or an unreachable queue before this succeeds
 * leaves the job to its scheduled retry, which validates the payload again — the handler never
 * runs — and fails it for good then.
 */
export function permanentlyFailAfterAttempt(
  queue: Queue,
  background: BackgroundWork,
  attempt: FailedAttempt,
  message: string,
): void {
  // The last attempt's failure is already permanent.
  if (attempt.attempts >= attempt.max_attempts) return;
  background.run(async (signal) => {
    const giveUpAt = Date.now() + GIVE_UP_MS;
    let lastError: unknown;
    for (
      let pause = FIRST_PAUSE_MS;
      Date.now() < giveUpAt;
      pause = Math.min(pause * 2, MAX_PAUSE_MS)
    ) {
      const slept = await sleep(pause, true, { signal }).catch(() => false);
      if (!slept) return;
      try {
        if ((await tryPermanentlyFail(queue, attempt, message)) !== 'still locked') return;
      } catch (error) {
        lastError = error;
      }
    }
    console.error(
      `[racefree] could not fail job ${attempt.id} for good within ${GIVE_UP_MS / 1000} s; its retry validates the payload again and fails it then (the handler never runs).`,
      ...(lastError === undefined ? [] : [lastError]),
    );
  });
}

/** One try: failed now, still locked (try again), or changed since — completed, replaced, retried. */
async function tryPermanentlyFail(
  queue: Queue,
  attempt: FailedAttempt,
  message: string,
): Promise<'failed' | 'still locked' | 'changed'> {
  const s = sql.identifier(queue.schema);
  // The jobs view (graphile-worker's stable read interface) picks the job only as the attempt
  // left it; one autocommit statement, so no transaction holds the view's rows.
  const unchanged = sql`select id from ${s}.jobs where id = ${attempt.id}::bigint and revision = ${attempt.revision}::int and attempts = ${attempt.attempts}::int`;
  const [row] = await pgExecutor(queue.pool)(
    sql`with failed as (select id from ${s}.permanently_fail_jobs(array(${unchanged}), ${message}::text))
        select (select count(*) from failed)::int as failed,
               (select locked_at is not null from ${s}.jobs where id in (${unchanged})) as locked`,
  );
  if (row?.failed === 1) return 'failed';
  // Unchanged but not failed: locked (its failure not recorded yet), or locked again in between.
  return row?.locked === null || row?.locked === undefined ? 'changed' : 'still locked';
}
