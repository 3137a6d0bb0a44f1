import type { Database } from '@racefree/transactions';
import type { EnqueueResult } from '../enqueue.js';
import type { JobSpec } from '../job-spec.js';
import type { Queue } from '../queue.js';

/**
 * Where `enqueue` puts the job of a PostgreSQL transaction: `'add_job'` (the default:
 * graphile-worker's own call, on the transaction, which must be on the queue's database) or
 * `'outbox'` (racefree's outbox table in the transaction's database, relayed after commit with
 * one `add_jobs` per batch). Either way the job exists if and only if the transaction commits.
 * MySQL/MariaDB transactions always write the outbox.
 *
 * @example
 * const jobs = createJobs({ tasks, connectionString, db, delivery: 'outbox' });
 */
export type Delivery = 'add_job' | 'outbox';

/** A row of an outbox, as the relay reads it. */
export interface OutboxRow {
  id: string;
  spec: JobSpec;
}

/**
 * The outbox's statements on one database family: what the relay and `enqueue` ask of it.
 * The relay's algorithm (`relay.ts`) is the same for every family; only these differ.
 */
export interface OutboxStatements {
  /** For messages: which database the outbox is in. */
  readonly database: 'PostgreSQL' | 'MySQL/MariaDB';
  /** Writes `spec` as an outbox row on `tx` and returns its id (`OutboxMissingError` if none). */
  insert(tx: Database, spec: JobSpec): Promise<string>;
  /** The next batch, oldest first, locked with `lockClause` (rows others hold are skipped). */
  lockBatch(tx: Database, limit: number, lockClause: string): Promise<OutboxRow[]>;
  /** Deletes the batch's rows, which `tx` holds locked. */
  deleteRows(tx: Database, ids: readonly string[]): Promise<void>;
  /** Which of `ids` still exist (a plain, non-locking read). */
  existing(db: Database, ids: readonly string[]): Promise<Set<string>>;
  /** Names this outbox for the ledger, so two outboxes never share ids. */
  source(db: Database): Promise<string>;
  /** Creates the outbox table if it does not exist (idempotent, safe at every start-up). */
  install(db: Database): Promise<void>;
}

/**
 * What differs between database families when a job must commit with a transaction: on
 * PostgreSQL the job is added on the transaction itself (or written to its outbox); on
 * MySQL/MariaDB (whose transactions cannot reach the queue) an outbox row is written and
 * relayed later.
 */
export interface JobDialect {
  readonly outbox: OutboxStatements;
  /**
   * Makes the job part of `tx`: it exists (or its outbox row does) if and only if `tx`
   * commits. `queueDb` is the Drizzle database `createJobs` was given, if any.
   */
  enqueueInTransaction(
    queue: Queue,
    tx: Database,
    spec: JobSpec,
    options: { queueDb: Database | undefined; delivery: Delivery },
  ): Promise<EnqueueResult>;
}
