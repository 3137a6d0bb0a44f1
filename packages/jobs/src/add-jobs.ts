import { sql } from 'drizzle-orm';
import { ADD_JOB_ATTEMPTS, addJob, type QueueExecutor } from './add-job.js';
import { JobNotAddedError } from './errors.js';
import { type JobSpec, jobSpecRecord } from './job-spec.js';

/** Jobs one `add_jobs` call can add, or a job only `add_job` can. */
type AddJobsCall =
  | { kind: 'add_jobs'; specs: JobSpec[]; preserveRunAt: boolean }
  | { kind: 'add_job'; spec: JobSpec };

/**
 * Splits `specs` (in order) into as few calls as graphile-worker's rules allow: jobs without a
 * key all fit into one `add_jobs`. A new call starts where the batch could not stay one:
 * - `add_jobs` takes one `job_key_preserve_run_at` flag for the whole call, so keyed jobs in
 *   `'replace'` and in `'preserve_run_at'` mode go to separate calls;
 * - a key repeated within one call would make its `ON CONFLICT … DO UPDATE` touch the same row
 *   twice (an error), so the second job with a key starts a call after the first one's —
 *   which also keeps "the later job replaces the earlier", as separate `add_job` calls would;
 * - `'unsafe_dedupe'` exists only in `add_job`.
 */
function addJobsCalls(specs: readonly JobSpec[]): AddJobsCall[] {
  const calls: AddJobsCall[] = [];
  let current: { kind: 'add_jobs'; specs: JobSpec[]; preserveRunAt: boolean } | undefined;
  let keys = new Set<string>();
  for (const spec of specs) {
    if (spec.jobKeyMode === 'unsafe_dedupe') {
      calls.push({ kind: 'add_job', spec });
      current = undefined;
      continue;
    }
    const preserveRunAt = spec.jobKeyMode === 'preserve_run_at';
    // The call's flag only matters to keyed jobs: the first of them sets it.
    const fits =
      current !== undefined &&
      (spec.jobKey === null ||
        (!keys.has(spec.jobKey) && (keys.size === 0 || current.preserveRunAt === preserveRunAt)));
    if (!fits || !current) {
      current = { kind: 'add_jobs', specs: [], preserveRunAt };
      keys = new Set();
      calls.push(current);
    }
    if (spec.jobKey !== null) {
      if (keys.size === 0) current.preserveRunAt = preserveRunAt;
      keys.add(spec.jobKey);
    }
    current.specs.push(spec);
  }
  return calls;
}

/**
 * Adds `specs` on whatever transaction `execute` runs in, with graphile-worker's `add_jobs`:
 * one call for a batch of unkeyed jobs (one statement and one NOTIFY, however many jobs), more
 * only where job keys require it (see `addJobsCalls`). A keyed job missing from `add_jobs`'
 * answer met graphile/worker issue 580 and is added again, like `addJob` does.
 */
export async function addJobs(
  execute: QueueExecutor,
  schema: string,
  specs: readonly JobSpec[],
): Promise<void> {
  for (const call of addJobsCalls(specs)) {
    if (call.kind === 'add_job') await addJob(execute, schema, call.spec);
    else await addJobsOnce(execute, schema, call.specs, call.preserveRunAt);
  }
}

async function addJobsOnce(
  execute: QueueExecutor,
  schema: string,
  specs: readonly JobSpec[],
  preserveRunAt: boolean,
): Promise<void> {
  const s = sql.identifier(schema);
  let pending = specs;
  for (let attempt = 1; ; attempt++) {
    // json_populate_recordset builds the job_spec[] from field names, so the call does not
    // depend on the field types of graphile-worker's job_spec (they changed before).
    const records = JSON.stringify(pending.map(jobSpecRecord));
    const rows = await execute(
      sql`select key from ${s}.add_jobs(array(select spec from json_populate_recordset(null::${s}.job_spec, ${records}::json) as spec), ${preserveRunAt}::boolean)`,
    );
    const added = new Set(rows.map((row) => row.key).filter((key) => typeof key === 'string'));
    // A job without a key is always inserted; only a keyed job can be missing (issue 580).
    pending = pending.filter((spec) => spec.jobKey !== null && !added.has(spec.jobKey));
    const [first] = pending;
    if (!first) return;
    if (attempt >= ADD_JOB_ATTEMPTS)
      throw new JobNotAddedError(first.identifier, first.jobKey ?? undefined, attempt);
  }
}
