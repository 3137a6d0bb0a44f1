import { type AnyPgDatabase, type Database, InvalidArgumentError } from '@racefree/transactions';
import { familyOf } from '@racefree/transactions/internal';
import { type JobHelpers, runMigrations, type TaskList } from 'graphile-worker';
import pg from 'pg';
import { AfterCommitRelay } from './after-commit-relay.js';
import { BackgroundWork } from './background-work.js';
import type { PayloadInput, TaskName, TaskSchemas } from './define-tasks.js';
import type { Delivery } from './dialects/job-dialect.js';
import {
  type EnqueueContext,
  type EnqueueOnCommitOptions,
  type EnqueueResult,
  enqueueJob,
  enqueueJobOnCommit,
} from './enqueue.js';
import type { JobOptions } from './job-spec.js';
import { permanentlyFailAfterAttempt } from './permanently-fail-job.js';
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

export type { Delivery } from './dialects/job-dialect.js';

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
   * The Drizzle PostgreSQL database (postgres.js or node-postgres) on the queue's database, if
   * your data lives there too. Optional: any transaction on the queue's database is accepted;
   * with `db`, transactions opened by `atomic(db, …)` share one identity probe (the first),
   * instead of one each.
   */
  db?: AnyPgDatabase;
  /** graphile-worker's schema. Default `'graphile_worker'`. */
  schema?: string;
  /**
   * How `enqueue` puts a job into a PostgreSQL transaction. Default `'add_job'`: graphile-worker's
   * `add_job` on the transaction (the transaction must be on the queue's database). `'outbox'`:
   * a row in racefree's outbox table of the transaction's own database (any database; create
   * it with `installOutbox`), relayed into the queue after the commit with one `add_jobs` per
   * batch — for commit-heavy loads, since a transaction that calls `add_job` sends a NOTIFY,
   * and PostgreSQL commits notifying transactions one at a time, server-wide. MySQL/MariaDB
   * transactions always use the outbox.
   */
  delivery?: Delivery;
  /**
   * After an `atomic` transaction that wrote outbox rows commits, relay that outbox at once
   * from this process (in the background: the commit does not wait for it). Default: `true`
   * with `delivery: 'outbox'`, `false` otherwise — MySQL/MariaDB rows then wait for the
   * `startRelay` loop, as they always did. Either way run `startRelay` in one process: it
   * relays what a crash, a raw `db.transaction()` or an unreachable queue left behind.
   */
  relayAfterCommit?: boolean;
}

/** Typed access to one graphile-worker queue (see `createJobs`). */
export interface Jobs<T extends TaskSchemas> {
  /** The task schemas. */
  readonly tasks: T;
  /** The node-postgres pool on the queue's database (hand it to graphile-worker's `run`). */
  readonly pgPool: pg.Pool;
  /** graphile-worker's schema. */
  readonly schema: string;
  /** How `enqueue` puts a job into a PostgreSQL transaction (`createJobs({ delivery })`). */
  readonly delivery: Delivery;
  /**
   * Enqueues a job so that it exists if and only if the surrounding transaction commits.
   * - In a PostgreSQL transaction, default delivery (`'add_job'`): the job is added with
   *   graphile-worker's `add_job` *on that transaction* (`atomic(db, …)` or a raw
   *   `db.transaction()`): no worker can see it before your data commits, and a rollback
   *   removes it with the data. The transaction must be on the queue's database; another one
   *   is refused (`ForeignTransactionError`).
   * - In a PostgreSQL transaction with `delivery: 'outbox'`, or in a MySQL/MariaDB
   *   transaction: an outbox row is written in it (on any database); the relay adds the job
   *   once it has committed — exactly once, even across relay crashes.
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
   * the hook, the job is lost; prefer `enqueue` (`add_job` or the outbox). Hook defaults: not
   * robust (a dispatch error is thrown from `atomic`).
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
   * Moves every committed outbox row of `outboxDb` (MySQL/MariaDB, or PostgreSQL with
   * `delivery: 'outbox'`) into the queue and resolves with the number of jobs added, once the
   * outbox is empty. Batches are taken `FOR UPDATE SKIP LOCKED`, so relays run side by side
   * safely. Each batch's jobs are added with one `add_jobs` in one queue transaction that also
   * records the outbox ids in a ledger (`racefree_jobs.outbox_ledger`, created on first use);
   * ids already there are skipped; the outbox rows are deleted only after that commit. A crash
   * anywhere neither loses nor doubles a job. Defaults: batches of 100. An after-commit pass
   * of this object on the same outbox is waited for first, so once this resolves every row
   * committed before the call is in the queue (unless another process's relay holds it).
   *
   * @example
   * await installOutbox(mysqlDb);
   * const moved = await jobs.relay(mysqlDb);
   */
  relay(outboxDb: Database, options?: RelayOptions): Promise<number>;
  /**
   * Runs `relay` in a loop until `stop()`: a pass whenever the last one found the outbox empty
   * and `pollIntervalMs` (default 1000) passed; failures are reported to `onError` and retried
   * with doubling pauses (at most `maxBackoffMs`, default 30 000). `stop()` lets the batch in
   * flight finish. With after-commit relays it is the safety net; without, the delivery.
   *
   * @example
   * const loop = jobs.startRelay(db, { onError: (e) => log.error(e) });
   * process.once('SIGTERM', () => void loop.stop());
   */
  startRelay(outboxDb: Database, options?: StartRelayOptions): RelayLoop;
  /**
   * A graphile-worker task list for these tasks. Every payload is validated first: an invalid
   * one fails its job permanently — no attempts left, `last_error` names the field, never
   * retried (the attempt fails, then graphile-worker's `permanently_fail_jobs` retires the job
   * before its retry is due). With `{ atomic: db }` each handler runs in `atomic(db, …)`
   * (receiving `tx`), so a failed attempt leaves no writes behind before graphile-worker
   * retries it (exponential backoff). Delivery is at-least-once — a handler's commit and
   * graphile-worker's completion are two transactions — so write handlers to be idempotent.
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
   * Stops this object's background work — after-commit relay passes finish their batch in
   * flight, bad-payload jobs not yet failed for good are left to their retry — waiting at most
   * 10 s, then ends the pool if `createJobs` opened it.
   */
  close(): Promise<void>;
}

/** The longest delay a Node timer keeps; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long `close()` waits for background work (a queue database gone dark). */
const CLOSE_WAIT_MS = 10_000;
const DELIVERIES: readonly Delivery[] = ['add_job', 'outbox'];

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
 * Binds typed tasks to a graphile-worker queue in PostgreSQL: `enqueue` (transactional, through
 * `add_job` or the outbox), `enqueueOnCommit`, the outbox `relay`, and `taskList` for the
 * worker. Safe to create at start-up: nothing is sent to a database until the first call.
 * Defaults: `delivery: 'add_job'`, schema `graphile_worker`, a pool of 10 for
 * `connectionString`.
 *
 * @example
 * const jobs = createJobs({ tasks, connectionString: process.env.DATABASE_URL, db });
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
    delivery = 'add_job',
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
  if (!DELIVERIES.includes(delivery))
    throw new InvalidArgumentError(
      `createJobs({ delivery }) must be 'add_job' or 'outbox', not ${JSON.stringify(delivery)}.`,
    );
  const relayAfterCommit = options.relayAfterCommit ?? delivery === 'outbox';
  if (typeof relayAfterCommit !== 'boolean')
    throw new InvalidArgumentError(
      `createJobs({ relayAfterCommit }) must be true or false, not ${JSON.stringify(relayAfterCommit)}.`,
    );
  const pgPool =
    pool ??
    new pg.Pool({ connectionString, max: maxPoolSize, Client: boundedClient(connectTimeoutMs) });
  const queue = new Queue(pgPool, schema, pool === undefined);
  const background = new BackgroundWork();
  const context: EnqueueContext = {
    queue,
    tasks,
    queueDb: db,
    delivery,
    afterCommit: relayAfterCommit ? new AfterCommitRelay(queue, background) : undefined,
  };

  return {
    tasks,
    pgPool,
    schema,
    delivery,
    enqueue: (target, name, payload, jobOptions) =>
      enqueueJob(context, target, name, payload, jobOptions),
    enqueueOnCommit: (name, payload, hookOptions) =>
      enqueueJobOnCommit(context, name, payload, hookOptions),
    relay: async (outboxDb, relayOptions) => {
      // Rows an after-commit pass of ours holds would be skipped, not waited for.
      await context.afterCommit?.idle(outboxDb);
      return relayOutbox(queue, outboxDb, relayOptions);
    },
    startRelay: (outboxDb, loopOptions) => startRelayLoop(queue, outboxDb, loopOptions),
    taskList: (
      handlers: TaskHandlers<T, JobHelpers> | TaskHandlers<T, AtomicJobHelpers<Database>>,
      listOptions?: TaskListOptions<Database>,
    ) =>
      buildTaskList(
        tasks,
        handlers as unknown as Record<string, TaskHandler<never, never>>,
        listOptions,
        (attempt, message) => permanentlyFailAfterAttempt(queue, background, attempt, message),
      ),
    migrate: () => runMigrations({ pgPool, schema }),
    close: async () => {
      await background.stop(CLOSE_WAIT_MS);
      await queue.close();
    },
  };
}
