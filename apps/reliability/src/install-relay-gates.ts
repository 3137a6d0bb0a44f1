import type postgres from 'postgres';

/** First key of the gate advisory locks. */
export const RELAY_GATE_CLASS = 7265;

/** Where the relay can be frozen. */
export type RelayGate = 'before-queue-commit' | 'between-commits';

/** Second key of each gate's advisory lock. */
export const RELAY_GATE_KEY: Record<RelayGate, number> = {
  'before-queue-commit': 1,
  'between-commits': 2,
};

/**
 * Two gates on the relay's PostgreSQL transaction, as triggers on its ledger
 * (`racefree_jobs.outbox_ledger`, created by the relay's first pass) in this scenario's queue
 * database. Each waits for a shared advisory lock: while this program holds the exclusive one,
 * a relay that reaches the gate stops there, visibly (an ungranted lock in `pg_locks`).
 * - `before-queue-commit`: a BEFORE INSERT statement trigger — the relay has locked its
 *   outbox batch in MariaDB and is adding the jobs; nothing is committed anywhere.
 * - `between-commits`: a DEFERRABLE INITIALLY DEFERRED constraint trigger, run by COMMIT
 *   itself — once released, the jobs and ledger entries commit even if the relay process is
 *   dead by then, while its MariaDB transaction (which would delete the outbox rows) rolls
 *   back with its connection: exactly the crash between the relay's two commits.
 * Open gates (no lock held) cost one uncontended lock per ledger row.
 */
export async function installRelayGates(queue: postgres.Sql): Promise<void> {
  await queue.unsafe(`
    create function reliability_relay_gate() returns trigger language plpgsql as $$
    begin
      perform pg_advisory_xact_lock_shared(${RELAY_GATE_CLASS}, tg_argv[0]::int);
      return null;
    end $$;
    create trigger reliability_gate_before_queue_commit
      before insert on racefree_jobs.outbox_ledger
      for each statement execute function reliability_relay_gate('${RELAY_GATE_KEY['before-queue-commit']}');
    create constraint trigger reliability_gate_between_commits
      after insert on racefree_jobs.outbox_ledger deferrable initially deferred
      for each row execute function reliability_relay_gate('${RELAY_GATE_KEY['between-commits']}');
  `);
}

/** The backend pids waiting at `gate` right now. */
export async function waitersAt(queue: postgres.Sql, gate: RelayGate): Promise<number[]> {
  const rows = await queue<{ pid: number }[]>`
    select pid from pg_locks
     where locktype = 'advisory' and not granted
       and classid = ${RELAY_GATE_CLASS} and objid = ${RELAY_GATE_KEY[gate]} and objsubid = 2
       and database = (select oid from pg_database where datname = current_database())`;
  return rows.map((row) => row.pid);
}
