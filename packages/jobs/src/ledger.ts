import { type SQL, sql } from 'drizzle-orm';
import type { QueueExecutor } from './add-job.js';
import type { Queue } from './queue.js';

/**
 * Where the relay remembers which outbox rows it has already turned into jobs: a table in the
 * queue's database, created on the first relay (or by `LEDGER_MIGRATION_SQL`). Never edit it by
 * hand while relays run: an entry removed too early lets a crashed relay's batch be added twice.
 */
export const LEDGER_TABLE = 'racefree_jobs.outbox_ledger';

/**
 * The ledger's DDL (PostgreSQL, in the queue's database; idempotent). `installLedger` runs it
 * under an advisory lock, since two `CREATE TABLE IF NOT EXISTS` racing can still collide.
 */
export const LEDGER_MIGRATION_SQL = `create schema if not exists racefree_jobs;
create table if not exists ${LEDGER_TABLE} (
  source text not null,
  outbox_id bigint not null,
  relayed_at timestamptz not null default now(),
  primary key (source, outbox_id)
)`;

/** The ledger table in statements (a fixed name, never user input). */
const ledger = sql.raw(LEDGER_TABLE);

const installed = new WeakMap<Queue, Promise<void>>();

/** Creates the ledger once per queue object (concurrent relays wait for one another). */
export function installLedger(queue: Queue): Promise<void> {
  let done = installed.get(queue);
  if (!done) {
    done = queue.transaction(async (execute) => {
      await execute(sql`select pg_advisory_xact_lock(hashtext(${LEDGER_TABLE}))`);
      for (const statement of LEDGER_MIGRATION_SQL.split(';\n')) await execute(sql.raw(statement));
    });
    installed.set(queue, done);
    done.catch(() => installed.delete(queue));
  }
  return done;
}

/** A PostgreSQL bigint[] of decimal ids (they come from an outbox's BIGINT column). */
export function idArray(ids: readonly string[]): SQL {
  for (const id of ids) if (!/^\d+$/.test(id)) throw new Error(`not an outbox id: ${id}`);
  return sql`${`{${ids.join(',')}}`}::bigint[]`;
}

/**
 * Records `ids` in the ledger and returns those that were not there yet: only those get a job.
 * An id already present was relayed by a relay that died before deleting its outbox row. A
 * concurrent relay inserting the same id waits on the unique index until the first commits or
 * rolls back, so exactly one of them sees the id as new.
 */
export async function recordInLedger(
  execute: QueueExecutor,
  source: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const rows = await execute(
    sql`insert into ${ledger} (source, outbox_id)
        select ${source}, unnest(${idArray(ids)})
        on conflict do nothing
        returning outbox_id::text as id`,
  );
  return new Set(rows.map((row) => String(row.id)));
}

/** Ledger ids of `source`, oldest first (at most `limit`). */
export async function ledgerIds(
  execute: QueueExecutor,
  source: string,
  limit: number,
): Promise<string[]> {
  const rows = await execute(
    sql`select outbox_id::text as id from ${ledger} where source = ${source} order by outbox_id limit ${limit}`,
  );
  return rows.map((row) => String(row.id));
}

/** Forgets `ids`: their outbox rows are gone for good, so no relay can meet them again. */
export async function forgetInLedger(
  execute: QueueExecutor,
  source: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await execute(
    sql`delete from ${ledger} where source = ${source} and outbox_id = any(${idArray(ids)})`,
  );
}
