import type pg from 'pg';
import { requireSchemaName, wakeWorkers } from './graphile-queue.js';
import { WORKER_PRESENCE_LOCK_CLASS } from './worker-presence.js';

/** Options of `unlockDeadWorkers`. */
export interface UnlockDeadWorkersOptions {
  /**
   * A worker without presence is unlocked only once its oldest lock is at least this old.
   * Default 60 000 ms: covers the moment between a worker pool starting (it may take a job at
   * once) and announcing its presence (milliseconds later).
   */
  minAgeMs?: number;
  /**
   * Also unlock workers whose oldest lock is older than this even when they look alive (a hung
   * worker, or workers that do not announce presence, such as other graphile-worker
   * deployments on the same queue). Default: never — alive workers are left alone.
   */
  olderThanMs?: number;
  /** Report what would be unlocked without changing anything. Default false. */
  dryRun?: boolean;
  /** graphile-worker's schema. Default `graphile_worker`. */
  schema?: string;
}

/** One worker id that holds job or queue locks, and what was decided about it. */
export interface LockedWorker {
  /** graphile-worker's `locked_by` (the worker pool's id, `pool-…`). */
  workerId: string;
  jobs: number;
  queues: number;
  /** Age of its oldest lock. */
  ageMs: number;
  /** Some session holds its presence lock. */
  alive: boolean;
  action: 'unlocked' | 'kept' | 'would unlock';
  reason: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Frees the jobs (and named-queue locks) of dead graphile-worker workers with
 * `graphile_worker.force_unlock_workers(...)`, so other workers run them now instead of in
 * 4 hours — graphile-worker 0.17 only treats a lock as stale after 4 hours (`resetLockedAt`).
 *
 * Dead means: no session holds the worker's presence lock (see `openWorkerPresence`; the
 * server drops it when the worker's connection ends, however the process died) and its oldest
 * lock is at least `minAgeMs` old. Safe to run at any time, from anywhere, any number of times:
 * a live worker keeps its jobs (unless `olderThanMs` says otherwise), and a freed job of a dead
 * worker runs again elsewhere — delivery is at-least-once and handlers are idempotent, so the
 * welcome email still goes out once. Needs one session (`client`), since it holds each dead
 * worker's presence lock while it unlocks it.
 *
 * @example
 * const client = new pg.Client({ connectionString: process.env.QUEUE_DATABASE_URL });
 * await client.connect();
 * for (const worker of await unlockDeadWorkers(client)) console.log(worker.workerId, worker.action);
 */
export async function unlockDeadWorkers(
  client: pg.ClientBase,
  options: UnlockDeadWorkersOptions = {},
): Promise<LockedWorker[]> {
  const { minAgeMs = 60_000, olderThanMs, dryRun = false } = options;
  const schema = requireSchemaName(options.schema ?? 'graphile_worker');
  const { rows } = await client.query<{
    worker_id: string;
    jobs: string;
    queues: string;
    age_ms: string;
  }>(
    `select locked_by as worker_id,
            count(*) filter (where kind = 'job') as jobs,
            count(*) filter (where kind = 'queue') as queues,
            floor(extract(epoch from now() - min(locked_at)) * 1000) as age_ms
       from (select 'job' as kind, locked_by, locked_at from ${schema}._private_jobs
              where locked_by is not null
             union all
             select 'queue', locked_by, locked_at from ${schema}._private_job_queues
              where locked_by is not null) as locks
      group by locked_by
      order by min(locked_at)`,
  );
  const workers: LockedWorker[] = [];
  const heldPresence: string[] = [];
  try {
    for (const row of rows) {
      // Taking the presence lock succeeds only if no live worker holds it. Keeping it until the
      // unlock is done means the id cannot come alive in between.
      const { rows: taken } = await client.query<{ taken: boolean }>(
        'select pg_try_advisory_lock($1, hashtext($2)) as taken',
        [WORKER_PRESENCE_LOCK_CLASS, row.worker_id],
      );
      const alive = taken[0]?.taken !== true;
      if (!alive) heldPresence.push(row.worker_id);
      const ageMs = Number(row.age_ms);
      let unlock: boolean;
      let reason: string;
      if (alive && olderThanMs !== undefined && ageMs >= olderThanMs) {
        unlock = true;
        reason = `its oldest lock is older than ${seconds(olderThanMs)} (it looks alive: is it hung?)`;
      } else if (alive) {
        unlock = false;
        reason = 'alive: a session holds its presence lock';
      } else if (ageMs < minAgeMs) {
        unlock = false;
        reason = `no presence, but its locks are younger than ${seconds(minAgeMs)} (a worker may be starting)`;
      } else {
        unlock = true;
        reason = 'dead: no session holds its presence lock';
      }
      workers.push({
        workerId: row.worker_id,
        jobs: Number(row.jobs),
        queues: Number(row.queues),
        ageMs,
        alive,
        action: unlock ? (dryRun ? 'would unlock' : 'unlocked') : 'kept',
        reason,
      });
    }
    const unlocked = workers.filter((w) => w.action === 'unlocked');
    if (unlocked.length > 0) {
      await client.query(`select ${schema}.force_unlock_workers($1::text[])`, [
        unlocked.map((w) => w.workerId),
      ]);
      await wakeWorkers(
        client,
        unlocked.reduce((sum, w) => sum + w.jobs, 0),
      );
    }
  } finally {
    for (const workerId of heldPresence)
      await client.query('select pg_advisory_unlock($1, hashtext($2))', [
        WORKER_PRESENCE_LOCK_CLASS,
        workerId,
      ]);
  }
  return workers;
}
