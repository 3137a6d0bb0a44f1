import { type AnyMySqlDatabase, atomic, InvalidArgumentError } from '@racefree/transactions';
import { activeTransaction, dialectOf, familyOf } from '@racefree/transactions/internal';
import { outboxStatements } from './dialects/mysql.js';
import { forgetInLedger, installLedger, ledgerIds, recordInLedger } from './ledger.js';
import { pgExecutor, type Queue } from './queue.js';
import { writeJob } from './write-job.js';

/** One batch the relay moved. */
export interface RelayBatch {
  /** The outbox ids of the batch, in order. */
  outboxIds: readonly string[];
  /** Jobs added to the queue for this batch. */
  added: number;
  /** Rows whose job a previous relay had already added (it died before deleting them). */
  skipped: number;
}

/**
 * Named fault-injection points, for tests that prove the relay survives a crash there. Throwing
 * from one aborts the relay at that point exactly as a crash would (its MySQL transaction rolls
 * back; what PostgreSQL committed stays).
 */
export interface RelayFaults {
  /** After the batch's jobs and ledger entries committed in PostgreSQL, before the MySQL delete. */
  afterQueueCommit?(batch: RelayBatch): void | Promise<void>;
}

/** Options of `jobs.relay`. */
export interface RelayOptions {
  /** Outbox rows per batch (one MySQL and one PostgreSQL transaction each). Default 100. */
  batchSize?: number;
  /**
   * Names this outbox in the ledger. Default: `mysql://@@hostname:@@port/database()`; set it
   * when several servers report the same name.
   */
  source?: string;
  /** Stop after the current batch once aborted (`startRelay` uses it). Default: none. */
  signal?: AbortSignal;
  /** Called after each batch is fully done (both commits). */
  onBatch?(batch: RelayBatch): void | Promise<void>;
  /** Fault-injection points, for tests. */
  faults?: RelayFaults;
}

/** How many leftover ledger entries one relay pass checks. */
const LEDGER_SWEEP_LIMIT = 1000;

/** The relay: the outbox drained into graphile-worker, each row's job added exactly once. */
export async function relayOutbox(
  queue: Queue,
  mysqlDb: AnyMySqlDatabase,
  options: RelayOptions = {},
): Promise<number> {
  if (familyOf(mysqlDb, 'relay') !== 'mysql')
    throw new InvalidArgumentError(
      'relay drains the MySQL/MariaDB outbox: pass the MySQL database (PostgreSQL needs no relay).',
    );
  if (activeTransaction(mysqlDb))
    throw new InvalidArgumentError(
      'relay opens its own transactions: call it outside atomic() (a job may only be added once its outbox row is committed).',
    );
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError(
      `batchSize must be a positive integer, got ${String(batchSize)}`,
    );
  // Throws NotSupportedError on MariaDB < 10.6 (no SKIP LOCKED) before any relay SQL is sent.
  const lockClause = (await dialectOf(mysqlDb)).lockClause('update', { skipLocked: true });
  await installLedger(queue);
  const source = options.source ?? (await outboxStatements.source(mysqlDb));

  let moved = 0;
  const deleted: string[] = [];
  while (!options.signal?.aborted) {
    // READ COMMITTED: the locking read takes record locks only, no gap locks that would make
    // the application's inserts into the outbox wait for the relay.
    const batch = await atomic(
      mysqlDb,
      async (tx) => {
        // SKIP LOCKED: concurrent relays take disjoint batches instead of queueing on one.
        const rows = await outboxStatements.lockBatch(tx, batchSize, lockClause);
        if (rows.length === 0) return undefined;
        const outboxIds = rows.map((row) => row.id);
        // One PostgreSQL transaction: the jobs exist if and only if the ledger says so.
        let quiet = 0;
        // Asked before the transaction takes a pooled connection: the probe needs one too.
        const quietSupported = await queue.quietInsertSupported();
        const added = await queue.transaction(async (execute) => {
          quiet = 0;
          const fresh = await recordInLedger(execute, source, outboxIds);
          for (const row of rows) {
            if (!fresh.has(row.id)) continue;
            // Without add_job's NOTIFY where it can (see writeJob): this commit then does not
            // queue behind every other enqueuing commit while the MySQL rows stay locked.
            if ((await writeJob(execute, queue.schema, row.spec, quietSupported)).quiet) quiet += 1;
          }
          return fresh.size;
        });
        if (quiet > 0) queue.wakeUps.add(quiet);
        const result: RelayBatch = { outboxIds, added, skipped: rows.length - added };
        await options.faults?.afterQueueCommit?.(result);
        // Only now may the rows go: a crash before this commit leaves them for the next relay,
        // which finds them in the ledger and deletes them without adding their jobs again.
        await outboxStatements.deleteRows(tx, outboxIds);
        return result;
      },
      // A deadlock or lock-wait timeout re-runs the whole batch; safe even after the PostgreSQL
      // commit, since the ledger makes the second attempt skip the jobs it already added.
      { isolationLevel: 'read committed', retries: 3 },
    );
    if (!batch) break;
    moved += batch.added;
    deleted.push(...batch.outboxIds);
    await options.onBatch?.(batch);
  }
  await pruneLedger(queue, mysqlDb, source, deleted);
  return moved;
}

/**
 * Drops ledger entries whose outbox rows are gone: those this pass deleted, and those a relay
 * that died after its MySQL commit left behind. An entry is only needed while its row exists;
 * a row, once deleted, never comes back (ids are AUTO_INCREMENT, never reused), and a row that
 * still exists — even one another relay is deleting right now — is visible to a plain read.
 */
async function pruneLedger(
  queue: Queue,
  mysqlDb: AnyMySqlDatabase,
  source: string,
  deleted: readonly string[],
): Promise<void> {
  const execute = pgExecutor(queue.pool);
  const leftover = (await ledgerIds(execute, source, LEDGER_SWEEP_LIMIT)).filter(
    (id) => !deleted.includes(id),
  );
  // Read the ledger first, then the outbox: an entry present before the read names a row that
  // was committed and locked when it was relayed, so "absent now" means deleted for good.
  const existing = await outboxStatements.existing(mysqlDb, leftover);
  const gone = [...deleted, ...leftover.filter((id) => !existing.has(id))];
  for (let start = 0; start < gone.length; start += LEDGER_SWEEP_LIMIT)
    await forgetInLedger(execute, source, gone.slice(start, start + LEDGER_SWEEP_LIMIT));
}
