import { type SQL, sql } from 'drizzle-orm';
import { JobNotAddedError } from './errors.js';
import type { JobSpec } from './job-spec.js';

/** Runs one statement on the queue's database and returns its rows (a Drizzle tx or a pg client). */
export type QueueExecutor = (query: SQL) => Promise<Record<string, unknown>[]>;

/**
 * How often `add_job` (or `add_jobs`, for the keyed jobs missing from its answer) is issued
 * before giving up. graphile-worker's `add_jobs` — which `add_job` also runs — first clears
 * the key of a *locked* job with the same key, then inserts with `ON CONFLICT (key) DO UPDATE
 * … WHERE locked_at IS NULL`; a worker locking the existing job between the two makes the
 * upsert a no-op and no job comes back (graphile/worker issue 580). Issued again, the call
 * sees the job locked, clears its key and inserts a fresh job, as the caller meant.
 */
export const ADD_JOB_ATTEMPTS = 5;

/** `add_job` for one spec, with every option passed through as given (named parameters). */
function addJobStatement(schema: string, spec: JobSpec): SQL {
  return sql`select id::text as id from ${sql.identifier(schema)}.add_job(identifier => ${spec.identifier}::text, payload => ${JSON.stringify(spec.payload ?? {})}::json, queue_name => ${spec.queueName}::text, run_at => ${spec.runAt}::timestamptz, max_attempts => ${spec.maxAttempts}::int, job_key => ${spec.jobKey}::text, priority => ${spec.priority}::int, job_key_mode => coalesce(${spec.jobKeyMode}::text, 'replace'))`;
}

/**
 * Adds one job with graphile-worker's `add_job` through `execute` — on whatever transaction
 * `execute` runs in, so the job commits or rolls back with it — and returns the job's id. The
 * issue-580 case is retried. `add_job` also sends the NOTIFY that wakes idle workers at commit.
 */
export async function addJob(
  execute: QueueExecutor,
  schema: string,
  spec: JobSpec,
): Promise<string> {
  for (let attempt = 1; attempt <= ADD_JOB_ATTEMPTS; attempt++) {
    const [row] = await execute(addJobStatement(schema, spec));
    const id = row?.id;
    if (typeof id === 'string') return id;
    if (id !== null && id !== undefined) return String(id);
  }
  throw new JobNotAddedError(spec.identifier, spec.jobKey ?? undefined, ADD_JOB_ATTEMPTS);
}
