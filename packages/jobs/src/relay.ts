import { atomic, type Database, InvalidArgumentError } from '@racefree/transactions';
import { activeTransaction, dialectOf } from '@racefree/transactions/internal';
import { addJobs } from './add-jobs.js';
import { jobDialectFor } from './dialects/job-dialect-for.js';
import type { OutboxStatements } from './dialects/job-dialect.js';
import { forgetInLedger, installLedger, ledgerIds, recordInLedger } from './ledger.js';
import { pgExecutor, type Queue } from './queue.js';

/** One batch the relay moved (handed to `onBatch` and the fault points). */
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
 * from one aborts the relay at that point exactly as a crash would: the transactions still
 * open roll back, what committed stays.
 */
export interface RelayFaults {
  /** The batch's jobs and ledger entries are written in the queue's transaction, not committed. */
  beforeQueueCommit?(batch: RelayBatch): void | Promise<void>;
  /** After the batch's jobs and ledger entries committed in the queue, before the outbox delete. */
  afterQueueCommit?(batch: RelayBatch): void | Promise<void>;
  /** The outbox rows are deleted in the outbox's transaction, not committed. */
  beforeOutboxCommit?(batch: RelayBatch): void | Promise<void>;
}

/**
 * Options of `jobs.relay`; all optional.
 *
 * @example
 * await jobs.relay(db, { batchSize: 500, onBatch: (b) => log.info(`${b.added} jobs`) });
 */
export interface RelayOptions {
  /** Outbox rows per batch (one outbox and one queue transaction, one `add_jobs`, each). Default 100. */
  batchSize?: number;
  /**
   * Names this outbox in the ledger. Default: `mysql://@@hostname:@@port/database()` on
   * MySQL/MariaDB, `postgres://<cluster system identifier>/<database>` on PostgreSQL; set it
   * when several MySQL servers report the same name.
   */
  source?: string;
  /** Stop after the current batch once aborted (`startRelay` uses it). Default: none. */
  signal?: AbortSignal;
  /** Called after each batch is fully done (both commits). */
  onBatch?(batch: RelayBatch): void | Promise<void>;
  /** Fault-injection points, for tests. */
  faults?: RelayFaults;
}

/** What the relay does beyond `RelayOptions`, for racefree's own after-commit passes. */
export interface RelayPassOptions extends RelayOptions {
  /**
   * Also look for ledger entries left by a relay that died after deleting its outbox rows
   * (one read of up to 1000 entries per pass). Default true; after-commit passes leave it to
   * `relay` and `startRelay`, and forget only the entries of the rows they deleted.
   */
  sweepLedger?: boolean;
}

/** How many leftover ledger entries one relay pass checks. */
const LEDGER_SWEEP_LIMIT = 1000;

/** The ledger name of each outbox database object, read once. */
const sources = new WeakMap<object, Promise<string>>();

function sourceOf(outbox: OutboxStatements, db: Database): Promise<string> {
  let found = sources.get(db);
  if (!found) {
    found = outbox.source(db);
    sources.set(db, found);
    found.catch(() => sources.delete(db));
  }
  return found;
}

/**
 * The relay: `outboxDb`'s outbox drained into graphile-worker, each row's job added exactly
 * once. The same algorithm for every outbox; the statements come from the outbox's dialect.
 */
export async function relayOutbox(
  queue: Queue,
  outboxDb: Database,
  options: RelayPassOptions = {},
): Promise<number> {
  const { outbox } = jobDialectFor(outboxDb, 'relay');
  if (activeTransaction(outboxDb))
    throw new InvalidArgumentError(
      'relay opens its own transactions: call it outside atomic() (a job may only be added once its outbox row is committed).',
    );
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError(
      `batchSize must be a positive integer, got ${String(batchSize)}`,
    );
  // Throws NotSupportedError on MariaDB < 10.6 (no SKIP LOCKED) before any relay SQL is sent.
  const lockClause = (await dialectOf(outboxDb)).lockClause('update', { skipLocked: true });
  await installLedger(queue);
  const source = options.source ?? (await sourceOf(outbox, outboxDb));
  const { faults } = options;

  let moved = 0;
  const deleted: string[] = [];
  while (!options.signal?.aborted) {
    // READ COMMITTED: the locking read takes record locks only — on MySQL no gap locks that
    // would make the application's inserts into the outbox wait for the relay.
    const batch = await atomic(
      outboxDb,
      async (tx) => {
        // SKIP LOCKED: concurrent relays take disjoint batches instead of queueing on one.
        const rows = await outbox.lockBatch(tx, batchSize, lockClause);
        if (rows.length === 0) return undefined;
        const outboxIds = rows.map((row) => row.id);
        // One queue transaction: the jobs exist if and only if the ledger says so.
        const added = await queue.transaction(async (execute) => {
          const fresh = await recordInLedger(execute, source, outboxIds);
          // One add_jobs for the batch: one statement and one NOTIFY however many jobs, so
          // the commit takes the server-wide notify lock once per batch, not once per job.
          await addJobs(
            execute,
            queue.schema,
            rows.filter((row) => fresh.has(row.id)).map((row) => row.spec),
          );
          await faults?.beforeQueueCommit?.(batchOf(outboxIds, fresh.size));
          return fresh.size;
        });
        const result = batchOf(outboxIds, added);
        await faults?.afterQueueCommit?.(result);
        // Only now may the rows go: a crash before this commit leaves them for the next relay,
        // which finds them in the ledger and deletes them without adding their jobs again.
        await outbox.deleteRows(tx, outboxIds);
        await faults?.beforeOutboxCommit?.(result);
        return result;
      },
      // A deadlock or lock-wait timeout re-runs the whole batch; safe even after the queue's
      // commit, since the ledger makes the second attempt skip the jobs it already added.
      { isolationLevel: 'read committed', retries: 3 },
    );
    if (!batch) break;
    moved += batch.added;
    deleted.push(...batch.outboxIds);
    await options.onBatch?.(batch);
  }
  await pruneLedger(queue, outbox, outboxDb, source, deleted, options.sweepLedger ?? true);
  return moved;
}

function batchOf(outboxIds: readonly string[], added: number): RelayBatch {
  return { outboxIds, added, skipped: outboxIds.length - added };
}

/**
 * Drops ledger entries whose outbox rows are gone: those this pass deleted, and (`sweep`) those
 * a relay that died after its outbox commit left behind. An entry is only needed while its row
 * exists; a row, once deleted, never comes back (ids are never reused), and a row that still
 * exists — even one another relay is deleting right now — is visible to a plain read.
 */
async function pruneLedger(
  queue: Queue,
  outbox: OutboxStatements,
  outboxDb: Database,
  source: string,
  deleted: readonly string[],
  sweep: boolean,
): Promise<void> {
  const execute = pgExecutor(queue.pool);
  let gone = deleted;
  if (sweep) {
    const deletedHere = new Set(deleted);
    const leftover = (await ledgerIds(execute, source, LEDGER_SWEEP_LIMIT)).filter(
      (id) => !deletedHere.has(id),
    );
    // Read the ledger first, then the outbox: an entry present before the read names a row
    // that was committed and locked when it was relayed, so "absent now" means deleted for good.
    const existing = await outbox.existing(outboxDb, leftover);
    gone = [...deleted, ...leftover.filter((id) => !existing.has(id))];
  }
  for (let start = 0; start < gone.length; start += LEDGER_SWEEP_LIMIT)
    await forgetInLedger(execute, source, gone.slice(start, start + LEDGER_SWEEP_LIMIT));
}
