import {
  type AnyMySqlDatabase,
  type AnyPgDatabase,
  type Database,
  InvalidArgumentError,
} from '@racefree/transactions';
import { familyOf } from '@racefree/transactions/internal';
import { type JobHelpers, runMigrations, type TaskList } from 'graphile-worker';
import pg from 'pg';
import type { PayloadInput, TaskName, TaskSchemas } from './define-tasks.js';
import {
  type EnqueueContext,
  type EnqueueOnCommitOptions,
  type EnqueueResult,
  enqueueJob,
  enqueueJobOnCommit,
} from './enqueue.js';
import type { JobOptions } from './job-spec.js';
import { Queue } from './queue.js';
import { type RelayOptions, relayOutbox } from './relay.js';
import { type RelayLoop, type StartRelayOptions, startRelayLoop } from './start-relay.js';
import {
  type AtomicJobHelpers,
  buildTaskList,
  type TaskHandler,
  type TaskHandlers,
  type TaskListOptions,
} from './task-list.js';

/** Options of `createJobs`. Give exactly one of `connectionString` and `pool`. */
export interface CreateJobsOptions<T extends TaskSchemas> {
  /** The tasks, from `defineTasks`. */
  tasks: T;
  /** The queue's PostgreSQL database; a node-postgres pool is opened on it (closed by `close()`). */
  connectionString?: string;
  /** Size of the pool opened for `connectionString`. Default 10. */
  maxPoolSize?: number;
  /**
   * How long a new connection of the pool opened for `connectionString` may take to be ready
   * before the call that needed it fails. Default 10 000 ms: without a limit, a queue server
   * that accepts connections and never answers holds that call — and `close()` — for good
   * (one that never accepts, for the minutes the operating system retries). It bounds
   * connecting only: a call waiting for a busy pool's next free connection waits as before.
   */
  connectTimeoutMs?: number;
  /** A node-postgres pool on the queue's database (yours: `close()` leaves it open). */
  pool?: pg.Pool;
  /**
   * The Drizzle (postgres.js) database on the queue's database, if your data lives there too.
   * Optional: any transaction on the queue's database is accepted; with `db`, transactions
   * opened by `atomic(db, …)` share one probe query (the first), instead of one each.
   */
  db?: AnyPgDatabase;
  /** graphile-worker's schema. Default `'graphile_worker'`. */
  schema?: string;
}

/** Typed access to one graphile-worker queue (see `createJobs`). */
export interface Jobs<T extends TaskSchemas> {
  /** The task schemas. */
  readonly tasks: T;
  /** The node-postgres pool on the queue's database (hand it to graphile-worker's `run`). */
  readonly pgPool: pg.Pool;
  /** graphile-worker's schema. */
  readonly schema: string;
  /**
   * Enqueues a job so that it exists if and only if the surrounding transaction commits.
   * - In a PostgreSQL transaction on the queue's database (`atomic(db, …)`, or a raw
   *   `db.transaction()`), the job row is written *on that transaction*: no worker can see it
   *   before your data commits, and a rollback removes it with the data. In an `atomic` block
   *   a job without a `jobKey` is inserted without `add_job`'s NOTIFY (which would make every
   *   notifying commit on the server wait for the previous one) and the workers are woken
   *   right after the commit, before your own `onCommit` hooks run; keyed jobs, the first job
   *   of a task or named queue, raw transactions and a queue schema newer than graphile-worker
   *   0.17.3's use `add_job` itself.
   * - In a PostgreSQL transaction on any other database: refused (`ForeignTransactionError`);
   *   use `enqueueOnCommit` there.
   * - In a MySQL/MariaDB transaction: an outbox row is written in it; `relay` adds the job
   *   once it has committed (exactly once, even across relay crashes).
   * - Outside any transaction: added now.
   *
   * The payload is validated first (`InvalidPayloadError` names the field), so a bad payload
   * never enters the queue. Options default to graphile-worker's (run now, no key, no named
   * queue, priority 0, 25 attempts).
   *
   * @example
   * await atomic(db, async (tx) => {
   *   const [user] = await tx.insert(users).values({ email }).returning();
   *   await jobs.enqueue(tx, 'send_welcome_email', { userId: user.id });
   * }); // the worker can only ever see the job together with the user
   */
  enqueue<K extends TaskName<T>>(
    db: Database,
    name: K,
    payload: PayloadInput<T, K>,
    options?: JobOptions,
  ): Promise<EnqueueResult>;
  /**
   * Celery's `delay_on_commit`: validates now, adds the job in an `onCommit` hook — after the
   * innermost `atomic` block's transaction commits (on any database), never after a rollback;
   * at once outside a transaction. At-most-once: if the process dies between the commit and
   * the hook, the job is lost; prefer `enqueue` where the data and queue share a database,
   * or the outbox on MySQL. Hook defaults: not robust (a dispatch error is thrown from `atomic`).
   *
   * @example
   * await atomic(otherPgDb, async () => {
   *   await jobs.enqueueOnCommit('send_welcome_email', { userId });
   * });
   */
  enqueueOnCommit<K extends TaskName<T>>(
    name: K,
    payload: PayloadInput<T, K>,
    options?: EnqueueOnCommitOptions,
  ): Promise<void>;
  /**
   * Moves every committed outbox row of `mysqlDb` into the queue and resolves with the number
   * of jobs added, once the outbox is empty. Batches are taken `FOR UPDATE SKIP LOCKED`, so
   * relays run side by side safely. Each batch's jobs are added in one PostgreSQL transaction
   * that also records the outbox ids in a ledger (`racefree_jobs.outbox_ledger`, created on
   * first use); ids already there are skipped; the MySQL rows are deleted only after that
   * commit. A crash anywhere neither loses nor doubles a job. Defaults: batches of 100.
   *
   * @example
   * await installOutbox(mysqlDb);
   * const moved = await jobs.relay(mysqlDb);
   */
  relay(mysqlDb: AnyMySqlDatabase, options?: RelayOptions): Promise<number>;
  /**
   * Runs `relay` in a loop until `stop()`: a pass whenever the last one found the outbox empty
   * and `pollIntervalMs` (default 1000) passed; failures are reported to `onError` and retried
   * with doubling pauses (at most `maxBackoffMs`, default 30 000). `stop()` lets the batch in
   * flight finish.
   *
   * @example
   * const loop = jobs.startRelay(mysqlDb, { onError: (e) => log.error(e) });
   * process.once('SIGTERM', () => void loop.stop());
   */
  startRelay(mysqlDb: AnyMySqlDatabase, options?: StartRelayOptions): RelayLoop;
  /**
   * A graphile-worker task list for these tasks. Every payload is validated first: an invalid
   * one fails its job permanently — no attempts left, `last_error` names the field, never
   * retried. With `{ atomic: db }` each handler runs in `atomic(db, …)` (receiving `tx`), so a
   * failed attempt leaves no writes behind before graphile-worker retries it (exponential
   * backoff). Delivery is at-least-once — a handler's commit and graphile-worker's completion
   * are two transactions — so write handlers to be idempotent.
   *
   * @example
   * const taskList = jobs.taskList({
   *   send_welcome_email: async ({ userId }, { tx }) => { … },
   * }, { atomic: db });
   * await run({ pgPool: jobs.pgPool, taskList });
   */
  taskList(handlers: TaskHandlers<T>): TaskList;
  taskList<D extends Database>(
    handlers: TaskHandlers<T, AtomicJobHelpers<D>>,
    options: TaskListOptions<D>,
  ): TaskList;
  /** Installs or upgrades graphile-worker's schema (its `runMigrations`). */
  migrate(): Promise<void>;
  /**
   * Sends the wake-ups still owed for committed jobs (waiting at most 5 s: a job whose wake-up
   * is not sent runs at the workers' next poll), then ends the pool if `createJobs` opened it.
   */
  close(): Promise<void>;
}

/** The longest delay a Node timer keeps; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A node-postgres client class whose connecting (TCP, startup, authentication, up to the first
 * ready-for-query) gives up after `timeoutMs`. Set on the client rather than as the pool's
 * `connectionTimeoutMillis`, which would also fail calls queued for a busy pool's next free
 * client — graphile-worker's `run` shares this pool with every enqueue.
 */
function boundedClient(timeoutMs: number): typeof pg.Client {
  return class BoundedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      const options: pg.ClientConfig =
        typeof config === 'string' ? { connectionString: config } : { ...config };
      // pg-pool hides a password as a non-enumerable property, which a spread leaves behind.
      if (typeof config === 'object' && config.password !== undefined)
        options.password = config.password;
      super({ ...options, connectionTimeoutMillis: timeoutMs });
    }
  };
}

/**
 * Binds typed tasks to a graphile-worker queue in PostgreSQL: `enqueue` (transactional),
 * `enqueueOnCommit`, the MySQL outbox `relay`, and `taskList` for the worker.
 *
 * @example
 * const jobs = createJobs({ tasks, connectionString: process.env.QUEUE_DATABASE_URL });
 * await jobs.migrate();
 */
export function createJobs<const T extends TaskSchemas>(options: CreateJobsOptions<T>): Jobs<T> {
  const {
    tasks,
    connectionString,
    pool,
    db,
    maxPoolSize = 10,
    connectTimeoutMs = 10_000,
    schema = 'graphile_worker',
  } = options;
  if (!tasks || typeof tasks !== 'object')
    throw new InvalidArgumentError('createJobs needs { tasks } from defineTasks({ … }).');
  if (
    !Number.isInteger(connectTimeoutMs) ||
    connectTimeoutMs <= 0 ||
    connectTimeoutMs > MAX_TIMER_MS
  )
    throw new InvalidArgumentError(
      `createJobs({ connectTimeoutMs }) must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, not ${String(connectTimeoutMs)}.`,
    );
  if (!Number.isInteger(maxPoolSize) || maxPoolSize <= 0)
    throw new InvalidArgumentError(
      `createJobs({ maxPoolSize }) must be a whole number above 0, not ${String(maxPoolSize)}.`,
    );
  if (
    pool !== undefined &&
    (options.connectTimeoutMs !== undefined || options.maxPoolSize !== undefined)
  )
    throw new InvalidArgumentError(
      'createJobs({ pool }) uses your pool as it is: maxPoolSize and connectTimeoutMs apply only to the pool opened for connectionString.',
    );
  if ((connectionString === undefined) === (pool === undefined))
    throw new InvalidArgumentError(
      'createJobs needs exactly one of connectionString and pool (the queue database).',
    );
  if (db !== undefined && familyOf(db, 'createJobs') !== 'postgres')
    throw new InvalidArgumentError(
      'createJobs({ db }) is the Drizzle PostgreSQL database of the queue; MySQL databases are passed to enqueue and relay instead.',
    );
  const pgPool =
    pool ??
    new pg.Pool({ connectionString, max: maxPoolSize, Client: boundedClient(connectTimeoutMs) });
  const queue = new Queue(pgPool, schema, pool === undefined);
  const context: EnqueueContext = { queue, tasks, queueDb: db };

  return {
    tasks,
    pgPool,
    schema,
    enqueue: (target, name, payload, jobOptions) =>
      enqueueJob(context, target, name, payload, jobOptions),
    enqueueOnCommit: (name, payload, hookOptions) =>
      enqueueJobOnCommit(context, name, payload, hookOptions),
    relay: (mysqlDb, relayOptions) => relayOutbox(queue, mysqlDb, relayOptions),
    startRelay: (mysqlDb, loopOptions) => startRelayLoop(queue, mysqlDb, loopOptions),
    taskList: (
      handlers: TaskHandlers<T, JobHelpers> | TaskHandlers<T, AtomicJobHelpers<Database>>,
      listOptions?: TaskListOptions<Database>,
    ) =>
      buildTaskList(
        tasks,
        schema,
        handlers as unknown as Record<string, TaskHandler<never, never>>,
        listOptions,
      ),
    migrate: () => runMigrations({ pgPool, schema }),
    close: () => queue.close(),
  };
}
