import type { Database } from '@racefree/transactions';
import { execute, executeRows, executeStatement } from '@racefree/transactions/internal';
import { type SQL, sql } from 'drizzle-orm';
import { guardOutbox, inCauses } from './guard-outbox.js';
import type { JobSpec } from '../job-spec.js';
import type { JobDialect, OutboxStatements } from './job-dialect.js';
import { OUTBOX_MIGRATION_SQL, OUTBOX_TABLE_NAME } from './outbox-table.js';

const outbox = sql.identifier(OUTBOX_TABLE_NAME);

/** MySQL / MariaDB: table doesn't exist. */
const NO_SUCH_TABLE = 1146;

const onOutbox = guardOutbox('MySQL/MariaDB', (error) => errnoOf(error) === NO_SUCH_TABLE);

/** The MySQL/MariaDB outbox's statements. */
const mysqlOutbox: OutboxStatements = {
  database: 'MySQL/MariaDB',
  async insert(tx, spec) {
    const { insertId } = await onOutbox(() =>
      execute(
        tx,
        sql`insert into ${outbox} (task_identifier, job) values (${spec.identifier}, ${JSON.stringify(spec)})`,
      ),
    );
    return String(insertId);
  },
  async lockBatch(tx, limit, lockClause) {
    // CAST … AS CHAR: MySQL's JSON type comes back parsed from mysql2, MariaDB's (LONGTEXT) as
    // a string; casting makes both a string.
    const rows = await onOutbox(() =>
      executeRows<{ id: unknown; job: unknown }>(
        tx,
        sql`select id, cast(job as char) as job from ${outbox} order by id limit ${limit}${sql.raw(lockClause)}`,
      ),
    );
    return rows.map((row) => ({
      id: String(row.id),
      spec: JSON.parse(String(row.job)) as JobSpec,
    }));
  },
  /**
   * One primary-key equality each. One `id IN (…)` statement looks equivalent but is not: on a
   * small or freshly created outbox the optimizer may choose a full scan, and a scanning DELETE
   * waits for every row it meets — rows that other relays hold — so two relays deadlock on each
   * other's batches (seen on MariaDB 10.11). A PK equality is always a single-row lookup that
   * locks only the row it deletes, which this relay holds.
   */
  async deleteRows(tx, ids) {
    for (const id of ids)
      await executeStatement(tx, sql`delete from ${outbox} where id = ${sql.raw(checkedId(id))}`);
  },
  async existing(db, ids) {
    if (ids.length === 0) return new Set();
    const rows = await executeRows<{ id: unknown }>(
      db,
      sql`select id from ${outbox} where id in (${idList(ids)})`,
    );
    return new Set(rows.map((row) => String(row.id)));
  },
  async source(db) {
    const [row] = await executeRows<{ host: unknown; port: unknown; db: unknown }>(
      db,
      sql`select @@hostname as host, @@port as port, database() as db`,
    );
    return `mysql://${String(row?.host)}:${String(row?.port)}/${String(row?.db)}`;
  },
  async install(db) {
    await executeStatement(db, sql.raw(OUTBOX_MIGRATION_SQL));
  },
};

/** MySQL and MariaDB: an outbox row in the caller's transaction, moved to the queue by the relay. */
export const mysqlJobDialect: JobDialect = {
  outbox: mysqlOutbox,
  async enqueueInTransaction(_queue, tx: Database, spec) {
    return { queued: 'outbox', outboxId: await mysqlOutbox.insert(tx, spec) };
  },
};

/** Ids as integer literals (bound as strings, `id IN ('1', '2')` compares BIGINT with text). */
function idList(ids: readonly string[]): SQL {
  return sql.raw(ids.map(checkedId).join(', '));
}

function checkedId(id: string): string {
  if (!/^\d+$/.test(id)) throw new Error(`not an outbox id: ${id}`);
  return id;
}

function errnoOf(error: unknown): number | undefined {
  return inCauses(error, (e) => {
    const { errno } = e as { errno?: unknown };
    return typeof errno === 'number' ? errno : undefined;
  });
}
