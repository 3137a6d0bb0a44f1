import { atomic, type Database } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import { addJob } from '../add-job.js';
import { assertQueueDatabase } from '../assert-queue-database.js';
import { probeIdentity } from '../database-identity.js';
import { guardOutbox, inCauses } from './guard-outbox.js';
import type { JobSpec } from '../job-spec.js';
import { idArray } from '../ledger.js';
import type { JobDialect, OutboxStatements } from './job-dialect.js';
import { OUTBOX_TABLE_NAME } from './outbox-table.js';
import { PG_OUTBOX_MIGRATION_SQL } from './pg-outbox-table.js';

const outbox = sql.identifier(OUTBOX_TABLE_NAME);

/** SQLSTATE undefined_table. */
const UNDEFINED_TABLE = '42P01';

const onOutbox = guardOutbox('PostgreSQL', (error) => sqlStateOf(error) === UNDEFINED_TABLE);

/** The PostgreSQL outbox's statements (`delivery: 'outbox'`). */
const postgresOutbox: OutboxStatements = {
  database: 'PostgreSQL',
  async insert(tx, spec) {
    const [row] = await onOutbox(() =>
      executeRows<{ id: string }>(
        tx,
        sql`insert into ${outbox} (task_identifier, job) values (${spec.identifier}, ${JSON.stringify(spec)}::json) returning id::text as id`,
      ),
    );
    return String(row?.id);
  },
  async lockBatch(tx, limit, lockClause) {
    const rows = await onOutbox(() =>
      executeRows<{ id: string; job: string }>(
        tx,
        // Ordered by the bigint column, not by the text it is read as ("10" < "9").
        sql`select id::text as id, job::text as job from ${outbox} order by ${outbox}.id limit ${limit}${sql.raw(lockClause)}`,
      ),
    );
    return rows.map((row) => ({ id: row.id, spec: JSON.parse(row.job) as JobSpec }));
  },
  // One statement: PostgreSQL finds each id by the primary key and locks only rows this relay
  // already holds (MySQL's scanning DELETE, which waits on other relays' rows, is not a risk).
  async deleteRows(tx, ids) {
    await executeStatement(tx, sql`delete from ${outbox} where id = any(${idArray(ids)})`);
  },
  async existing(db, ids) {
    if (ids.length === 0) return new Set();
    const rows = await executeRows<{ id: string }>(
      db,
      sql`select id::text as id from ${outbox} where id = any(${idArray(ids)})`,
    );
    return new Set(rows.map((row) => row.id));
  },
  // The cluster's system identifier and the database name: stable whatever host reaches it.
  async source(db) {
    const identity = await probeIdentity((query) => executeRows(db, query));
    return `postgres://${identity.key}`;
  },
  async install(db) {
    // Two CREATE TABLE IF NOT EXISTS racing can both pass the check and collide on the
    // catalog's unique index: the transaction-scoped advisory lock lets one in at a time.
    await atomic(db, async (tx) => {
      await executeStatement(tx, sql`select pg_advisory_xact_lock(hashtext(${OUTBOX_TABLE_NAME}))`);
      await executeStatement(tx, sql.raw(PG_OUTBOX_MIGRATION_SQL));
    });
  },
};

/**
 * PostgreSQL: by default the job is added with graphile-worker's `add_job` on the caller's
 * transaction (which must be on the queue's database); with `delivery: 'outbox'` it is
 * written to the outbox of the transaction's own database and relayed after commit.
 */
export const postgresJobDialect: JobDialect = {
  outbox: postgresOutbox,
  async enqueueInTransaction(queue, tx: Database, spec, { queueDb, delivery }) {
    if (delivery === 'outbox')
      return { queued: 'outbox', outboxId: await postgresOutbox.insert(tx, spec) };
    // Only a transaction on the queue's own database can hold the job atomically.
    await assertQueueDatabase(queue, tx, queueDb);
    const jobId = await addJob((query) => executeRows(tx, query), queue.schema, spec);
    return { queued: 'in-transaction', jobId };
  },
};

/** The SQLSTATE of a PostgreSQL error, through Drizzle's wrapping (`DrizzleQueryError.cause`). */
function sqlStateOf(error: unknown): string | undefined {
  return inCauses(error, (e) => {
    const { code } = e as { code?: unknown };
    return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  });
}
