import type postgres from 'postgres';

/** A job some worker holds locked. */
export interface LockedJob {
  id: string;
  customerId: number;
}

/** The jobs `workerId` (graphile-worker's `locked_by`) holds locked right now. */
export async function lockedJobs(queue: postgres.Sql, workerId: string): Promise<LockedJob[]> {
  const rows = await queue<{ id: string; customer_id: string | null }[]>`
    select id::text, payload->>'customerId' as customer_id
      from graphile_worker._private_jobs where locked_by = ${workerId} order by id`;
  return rows.map((row) => ({ id: row.id, customerId: Number(row.customer_id) }));
}

/** Whether every job of `ids` is gone from the queue (graphile-worker deletes completed jobs). */
export async function jobsGone(queue: postgres.Sql, ids: readonly string[]): Promise<boolean> {
  const [row] = await queue<{ n: string }[]>`
    select count(*)::text as n from graphile_worker._private_jobs where id = any(${ids as string[]}::bigint[])`;
  return Number(row?.n) === 0;
}
