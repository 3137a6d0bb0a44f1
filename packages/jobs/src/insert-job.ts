import type { QueueExecutor } from './add-job.js';
import { type JobSpec, jobSpecParams } from './job-spec.js';
import { quoteIdentifier } from './quote-identifier.js';

const texts = new Map<string, string>();

/**
 * The last migration of graphile-worker 0.17.3, whose `_private_jobs` this statement writes.
 * A database migrated further (a newer worker elsewhere) may have changed what `add_jobs`
 * does, so `Queue.quietInsertSupported` then sends every job through `add_job`.
 */
export const INSERT_JOB_SCHEMA_REVISION = 19;

/**
 * The job row exactly as graphile-worker 0.17.3's `add_jobs` writes it for a job without a key
 * (same columns, same defaults: payload `{}`, run now, 25 attempts, priority 0, no flags) —
 * without its `pg_notify`. No row comes back when the task (or the named queue) has never been
 * registered in this database (`add_jobs` creates those rows, this statement does not), and
 * for a spec with a job key, which only `add_job`'s upsert handles.
 */
function insertJobText(schema: string): string {
  let text = texts.get(schema);
  if (text === undefined) {
    const s = quoteIdentifier(schema);
    text = `insert into ${s}._private_jobs (job_queue_id, task_id, payload, run_at, max_attempts, priority)
select queues.id, tasks.id, $2::json, coalesce($4::timestamptz, now()), coalesce($5::smallint, 25::smallint), coalesce($7::smallint, 0::smallint)
from ${s}._private_tasks as tasks
left join ${s}._private_job_queues as queues on queues.queue_name = $3::text
where tasks.identifier = $1::text and ($3::text is null or queues.id is not null) and $6::text is null and $8::text is null
returning id::text as id`;
    texts.set(schema, text);
  }
  return text;
}

/**
 * Inserts a job without a `jobKey` on whatever transaction `execute` runs in, without the
 * NOTIFY that `add_job` sends, and returns its id — or `undefined` when its task or queue is
 * not registered yet (use `addJob` then, which registers them).
 *
 * Why not `add_job`: a transaction that has called `pg_notify` takes a cluster-wide lock
 * when it commits and holds it until its commit record is flushed, so every such commit waits
 * for the one before it — no group commit. Measured (`pnpm bench`, 2 cores): "insert a
 * customer + add_job" plateaus at ~900–1,100 commits/s from 8 clients on, the same transaction
 * with this insert reaches what any two-insert transaction does. The wake-up is sent after
 * the commit instead (see `WakeUps`). A job key needs `add_job`'s upsert rules and goes
 * through it. This writes graphile-worker's private table: it relies on 0.17.3's schema,
 * which is why the package pins that version (tested against the real schema), and is only
 * used on a database whose last migration is `INSERT_JOB_SCHEMA_REVISION`.
 */
export async function insertJob(
  execute: QueueExecutor,
  schema: string,
  spec: JobSpec,
): Promise<string | undefined> {
  if (spec.jobKey !== null) return undefined;
  const [row] = await execute({ sql: insertJobText(schema), params: jobSpecParams(spec) });
  return row ? String(row.id) : undefined;
}
