import { type SQL, sql } from 'drizzle-orm';

/** A statement for the queue: a Drizzle `sql` template, or text with `$n` parameters. */
export type Query = SQL | { sql: string; params: readonly unknown[] };

/** `query` as a Drizzle `sql` template (text with `$n` placeholders gets its values bound). */
export function toSql(query: Query): SQL {
  if (!('params' in query) || typeof query.sql !== 'string') return query as SQL;
  const parts = query.sql.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) chunks.push(sql.raw(parts[i] as string));
    else chunks.push(sql`${query.params[Number(parts[i]) - 1]}`);
  }
  return sql.join(chunks);
}
import { JobNotAddedError } from './errors.js';
import { type JobSpec, jobSpecParams } from './job-spec.js';
import { quoteIdentifier } from './quote-identifier.js';

/** Runs one statement on the queue's database and returns its rows (a Drizzle tx or a pg client). */
export type QueueExecutor = (query: Query) => Promise<Record<string, unknown>[]>;

/**
 * How often `add_job` is re-issued when it returns no job. graphile-worker 0.17's `add_jobs`
 * clears the key of a locked job, then inserts with `ON CONFLICT (key) DO UPDATE … WHERE
 * locked_at IS NULL`; a worker locking the existing job between the two makes the upsert a
 * no-op and `add_job` returns an all-null row (graphile/worker issue 580). Re-issuing it sees
 * the job locked, clears its key and inserts a fresh job, as the caller meant.
 */
const ADD_JOB_ATTEMPTS = 5;

// The text depends on the schema alone: built once per schema, not per job (Drizzle's SQL
// builder cost more client CPU than the statement's own driver work).
const texts = new Map<string, string>();

/** The `add_job` call for one spec; every option is passed through as given. */
function addJobQuery(schema: string, spec: JobSpec): Query {
  let text = texts.get(schema);
  if (text === undefined) {
    text = `select id::text as id from ${quoteIdentifier(schema)}.add_job(identifier => $1::text, payload => $2::json, queue_name => $3::text, run_at => $4::timestamptz, max_attempts => $5::int, job_key => $6::text, priority => $7::int, job_key_mode => coalesce($8::text, 'replace'))`;
    texts.set(schema, text);
  }
  return { sql: text, params: jobSpecParams(spec) };
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
    const [row] = await execute(addJobQuery(schema, spec));
    const id = row?.id;
    if (typeof id === 'string') return id;
    if (id !== null && id !== undefined) return String(id);
  }
  throw new JobNotAddedError(spec.identifier, spec.jobKey ?? undefined, ADD_JOB_ATTEMPTS);
}
