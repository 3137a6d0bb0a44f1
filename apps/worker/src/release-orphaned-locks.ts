import type { WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import { requireSchemaName, wakeWorkers } from './graphile-queue.js';
import type { Log } from './log.js';

/** Options of `startOrphanedLockSweeper`. */
export interface OrphanedLockSweeperOptions {
  pool: pg.Pool;
  events: WorkerEvents;
  /** This worker's id (graphile-worker's `locked_by`): known once its pool exists. */
  workerId: () => string | undefined;
  /** A lock of ours this old, on a job we are not running, is released. */
  minAgeMs: number;
  log: Log;
  /** graphile-worker's schema. Default `graphile_worker`. */
  schema?: string;
}

/** A running sweeper. */
export interface OrphanedLockSweeper {
  stop(): void;
}

/**
 * Releases jobs locked by this very worker that it is not running — locks it lost track of.
 *
 * Why: a live worker can hold a job it will never run or finish. graphile-worker 0.17 takes a
 * job with an autocommitted `UPDATE … SET locked_by` and marks it done with a separate DELETE
 * that it does not await. When the database connection drops at the wrong moment, the lock
 * commits but its answer is lost (the worker never learns it took the job), or the DELETE
 * fails (the job ran, but stays). Either way the job stays locked by a worker that is alive —
 * so neither `unlock-dead-workers` nor another worker touches it — for graphile-worker's
 * 4 hours. This sweeper knows which jobs this process is running (graphile-worker's
 * `job:start` / `job:complete` events); any other job locked in its name for at least
 * `minAgeMs` is unlocked, and idle workers are woken. A job unlocked after its handler had
 * committed runs again, which idempotent handlers make harmless (delivery is at-least-once).
 * Runs every `minAgeMs / 4`; a failed sweep (database down) is retried at the next tick.
 */
export function startOrphanedLockSweeper(options: OrphanedLockSweeperOptions): OrphanedLockSweeper {
  const { pool, events, workerId, minAgeMs, log } = options;
  const schema = requireSchemaName(options.schema ?? 'graphile_worker');
  const running = new Set<string>();
  // Finished jobs whose "done" is still on its way to the database: left alone for a while.
  const finishing = new Map<string, number>();
  events.on('job:start', ({ job }) => running.add(String(job.id)));
  events.on('job:complete', ({ job }) => {
    running.delete(String(job.id));
    finishing.set(String(job.id), Date.now());
  });
  const ours = () => {
    const now = Date.now();
    for (const [job, at] of finishing) if (now - at > minAgeMs) finishing.delete(job);
    return [...running, ...finishing.keys()];
  };

  let sweeping = false;
  const sweep = async () => {
    const id = workerId();
    if (sweeping || id === undefined) return;
    sweeping = true;
    try {
      const { rows } = await pool.query<{ id: string }>(
        `with freed as (
           update ${schema}._private_jobs as jobs
              set locked_by = null, locked_at = null
            where locked_by = $1
              and locked_at < now() - make_interval(secs => $3::double precision / 1000)
              and not (id = any($2::bigint[]))
            returning id, job_queue_id
         ), queues as (
           update ${schema}._private_job_queues as job_queues
              set locked_by = null, locked_at = null
             from freed
            where job_queues.id = freed.job_queue_id and job_queues.locked_by = $1
         )
         select id::text from freed`,
        [id, ours(), minAgeMs],
      );
      if (rows.length > 0) {
        await wakeWorkers(pool, rows.length);
        log('warning', 'released jobs this worker had locked but was not running', {
          jobs: rows.map((row) => row.id),
        });
      }
    } catch (error) {
      log('debug', 'orphaned-lock sweep failed; retrying at the next tick', { error });
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => void sweep(), Math.max(250, Math.floor(minAgeMs / 4)));
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
