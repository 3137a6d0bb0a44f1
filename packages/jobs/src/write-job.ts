import { addJob, type QueueExecutor } from './add-job.js';
import { insertJob } from './insert-job.js';
import type { JobSpec } from './job-spec.js';

/** A job written, and whether it was written without `add_job`'s NOTIFY (a wake-up is owed). */
export interface WrittenJob {
  jobId: string;
  quiet: boolean;
}

/**
 * Writes `spec` on the transaction `execute` runs in: with `insertJob` (no NOTIFY) when the
 * caller may (`quiet`: it can wake the workers after its commit, and the schema is the one
 * `insertJob` was written for) and the job allows it, else through `add_job`, whose rules a
 * keyed job or an unregistered task or queue needs. Safe either way: both write the same row.
 */
export async function writeJob(
  execute: QueueExecutor,
  schema: string,
  spec: JobSpec,
  quiet: boolean,
): Promise<WrittenJob> {
  const jobId = quiet ? await insertJob(execute, schema, spec) : undefined;
  if (jobId !== undefined) return { jobId, quiet: true };
  return { jobId: await addJob(execute, schema, spec), quiet: false };
}
