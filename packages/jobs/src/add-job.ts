import { type SQL, sql } from 'drizzle-orm';
import { JobNotAddedError } from './errors.js';
import type { JobSpec } from './job-spec.js';

/** Runs one statement on the queue's database and returns its rows (a Drizzle tx or a pg client). */
export type QueueExecutor = (query: SQL) => Promise<Record<string, unknown>[]>;

/**
 * How often `add_job` is re-issued when it returns no job. graphile-worker 0.17's `add_jobs`
 * clears the key of a locked job, then inserts with `ON CONFLICT (key) DO UPDATE … WHERE
 * locked_at IS NULL`; a worker locking the existing job between the two makes the upsert a
 * no-op and `add_job` returns an all-null row (graphile/worker issue 580). Re-issuing it sees
 * the job locked, clears its key and inserts a fresh job, as the caller meant.
 */
const ADD_JOB_ATTEMPTS = 5;

/** The `add_job` call for one spec; every option is passed through as given. */
function addJobQuery(schema: string, spec: JobSpec): SQL {
  return sql`select id::text as id from ${sql.identifier(schema)}.add_job(
    identifier => ${spec.identifier}::text,
    payload => ${JSON.stringify(spec.payload ?? {})}::json,
    queue_name => ${spec.queueName}::text,
    run_at => ${spec.runAt}::timestamptz,
    max_attempts => ${spec.maxAttempts}::int,
    job_key => ${spec.jobKey}::text,
    priority => ${spec.priority}::int,
    job_key_mode => coalesce(${spec.jobKeyMode}::text, 'replace')
  )`;
}

/**
 * Adds one job through `execute` — on whatever transaction `execute` runs in, so the job
 * commits or rolls back with it — and returns the job's id. The issue-580 case is retried.
 */
export async function addJob(
  execute: QueueExecutor,
  schema: string,
  spec: JobSpec,
): Promise<string> {
  for (let attempt = 1; attempt <= ADD_JOB_ATTEMPTS; attempt++) {
    const [row] = await execute(addJobQuery(schema, spec));
    const id = row?.id;
    if (typeof id === 'string') return id;
    if (id !== null && id !== undefined) return String(id);
  }
  throw new JobNotAddedError(spec.identifier, spec.jobKey ?? undefined, ADD_JOB_ATTEMPTS);
}
