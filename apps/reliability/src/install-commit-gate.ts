import type postgres from 'postgres';
import { holdPostgresTransaction } from './hold-postgres-transaction.js';
import { until } from './until.js';

/** The gate's advisory lock: (class, key). */
const COMMIT_GATE = [7266, 1] as const;

/**
 * A gate inside COMMIT on PostgreSQL: a `DEFERRABLE INITIALLY DEFERRED` constraint trigger on
 * `orders` that waits for a shared advisory lock. It runs when a transaction that sold a copy
 * commits — after the request's handler, and after `idempotency()` stored the answer. While
 * this program holds the exclusive lock, purchases stop there visibly (ungranted locks in
 * `pg_locks`), their COMMIT sent and not yet done. Once released, they commit even if the web
 * process is dead by then: a purchase committed whose answer never left. Open, it costs one
 * uncontended lock per order. (MariaDB has no deferred triggers: no such gate there.)
 */
export async function installCommitGate(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`
    create function reliability_commit_gate() returns trigger language plpgsql as $$
    begin
      perform pg_advisory_xact_lock_shared(${COMMIT_GATE[0]}, ${COMMIT_GATE[1]});
      return null;
    end $$;
    create constraint trigger reliability_commit_gate
      after insert on orders deferrable initially deferred
      for each row execute function reliability_commit_gate();
  `);
}

/**
 * Closes the gate and resolves once purchases wait at it and the web is stuck: at least one
 * waits inside COMMIT, and every other busy session of the database waits on a lock too (a
 * purchase of the same book waits for the gated one's row lock, so how many reach the gate
 * depends on how many books have stock). Resolves with the gated backends' pids and
 * `openAfterKill()`: call it once their web process is dead; it lets them finish committing and
 * resolves when their backends have ended (a backend whose client is gone ends as soon as its
 * COMMIT is done).
 */
export async function closeCommitGate(
  sql: postgres.Sql,
): Promise<{ waiting: number[]; openAfterKill(): Promise<void> }> {
  const lock = await holdPostgresTransaction(sql, [
    `select pg_advisory_xact_lock(${COMMIT_GATE[0]}, ${COMMIT_GATE[1]})`,
  ]);
  let waiting: number[] = [];
  try {
    waiting = await until('purchases to wait inside COMMIT, and the web to stall', async () => {
      const [row] = await sql<{ gated: number[]; running: string }[]>`
        select coalesce(array_agg(a.pid) filter (where l.pid is not null), '{}') as gated,
               count(*) filter (where a.state = 'active'
                                  and a.wait_event_type is distinct from 'Lock')::text as running
          from pg_stat_activity a
          left join pg_locks l
            on l.pid = a.pid and l.locktype = 'advisory' and not l.granted
           and l.classid = ${COMMIT_GATE[0]} and l.objid = ${COMMIT_GATE[1]} and l.objsubid = 2
         where a.datname = current_database() and a.backend_type = 'client backend'
           and a.pid <> pg_backend_pid()`;
      return row && row.gated.length > 0 && Number(row.running) === 0 && row.gated;
    });
  } catch (error) {
    await lock.release();
    throw error;
  }
  return {
    waiting,
    async openAfterKill() {
      await lock.release();
      await until('the gated backends to end', async () => {
        const [row] = await sql<{ n: string }[]>`
          select count(*)::text as n from pg_stat_activity where pid = any(${waiting}::int[])`;
        return Number(row?.n) === 0;
      });
    },
  };
}
