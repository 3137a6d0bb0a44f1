import type postgres from 'postgres';

/**
 * Records every job ever added to the queue (graphile-worker deletes jobs once done, so the
 * queue alone cannot show a doubled job): an AFTER INSERT trigger on
 * `graphile_worker._private_jobs` copies each new job's task and payload into
 * `reliability_job_audit`, in the adding transaction — a job that rolls back leaves no audit
 * row either. Installed after an app has migrated graphile-worker's schema, before any load.
 */
export async function installJobAudit(queue: postgres.Sql): Promise<void> {
  await queue.unsafe(`
    create table reliability_job_audit (
      job_id bigint not null,
      task text not null,
      customer_id bigint,
      email text,
      added_at timestamptz not null default clock_timestamp()
    );
    grant insert on reliability_job_audit to public;
    create function reliability_audit_job() returns trigger language plpgsql as $$
    begin
      insert into public.reliability_job_audit (job_id, task, customer_id, email)
      select new.id, tasks.identifier, (new.payload->>'customerId')::bigint, new.payload->>'email'
        from graphile_worker._private_tasks as tasks
       where tasks.id = new.task_id;
      return null;
    end $$;
    create trigger reliability_audit after insert on graphile_worker._private_jobs
      for each row execute function reliability_audit_job();
  `);
}
