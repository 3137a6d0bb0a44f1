import type { AtomicJobHelpers } from '@racefree/jobs';
import type { AnyPgDatabase } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { z } from 'zod';

/** Payload of `record_event`: the event's own id makes the task idempotent. */
export const recordEventPayload = z.object({
  eventId: z.uuid(),
  name: z.string().min(1).max(200),
});

/** The example task's table, in the queue's database (created at start-up). */
export const RECORD_EVENT_TABLE_SQL = `create table if not exists worker_events (
  event_id uuid primary key,
  name text not null,
  recorded_at timestamptz not null default now()
)`;

/**
 * The example task: records an event once. Delivery is at-least-once — the handler's commit
 * and graphile-worker's "job done" are two transactions, and a worker can die between them —
 * so a second run of the same job must change nothing: the event id is the primary key and a
 * duplicate is ignored (`on conflict do nothing`), not an error that would retry forever.
 */
export async function recordEvent(
  payload: z.output<typeof recordEventPayload>,
  { tx }: AtomicJobHelpers<AnyPgDatabase>,
): Promise<void> {
  await tx.execute(
    sql`insert into worker_events (event_id, name) values (${payload.eventId}, ${payload.name})
        on conflict (event_id) do nothing`,
  );
}
