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
 * Closes the gate and resolves once `atLeast` committing purchases wait at it, with their
 * backend pids and `openAfterKill()`: call it once their web process is dead; it lets them
 * finish committing and resolves when their backends have ended (a backend whose client is
 * gone ends as soon as its COMMIT is done).
 */
export async function closeCommitGate(
  sql: postgres.Sql,
  atLeast: number,
): Promise<{ waiting: number[]; openAfterKill(): Promise<void> }> {
  const lock = await holdPostgresTransaction(sql, [
    `select pg_advisory_xact_lock(${COMMIT_GATE[0]}, ${COMMIT_GATE[1]})`,
  ]);
  let waiting: number[] = [];
  try {
    waiting = await until(`${atLeast} purchases to wait inside COMMIT`, async () => {
      const rows = await sql<{ pid: number }[]>`
        select pid from pg_locks
         where locktype = 'advisory' and not granted
           and classid = ${COMMIT_GATE[0]} and objid = ${COMMIT_GATE[1]} and objsubid = 2
           and database = (select oid from pg_database where datname = current_database())`;
      return rows.length >= atLeast && rows.map((row) => row.pid);
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
