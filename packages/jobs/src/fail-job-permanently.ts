import type { JobHelpers } from 'graphile-worker';

/**
 * Takes away the running job's remaining attempts, so that when the task then throws,
 * graphile-worker records the error as `last_error` and never picks the job up again.
 *
 * graphile-worker 0.17.3 has no public call for this: `permanentlyFailJobs` skips locked jobs,
 * and the running job is locked. A job is only ever fetched while `is_available` — a generated
 * column, `locked_at is null and attempts < max_attempts` (migration 000011) — so setting
 * `attempts = max_attempts` is the same thing graphile-worker's own `add_jobs` and `remove_job`
 * do to retire a locked job. Its `fail_job` update that follows (`last_error = $message`, unlock)
 * leaves `attempts` alone. This relies on the schema of that exact version, which is why
 * @racefree/jobs pins graphile-worker to 0.17.3.
 */
export async function failJobPermanently(helpers: JobHelpers, schema: string): Promise<void> {
  const table = `"${schema.replaceAll('"', '""')}"._private_jobs`;
  await helpers.withPgClient((client) =>
    client.query(
      `update ${table} set attempts = max_attempts where id = $1::bigint and locked_at is not null`,
      [helpers.job.id],
    ),
  );
}
