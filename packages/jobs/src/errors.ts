import { RacefreeError } from '@racefree/transactions';

/** One problem a payload schema found: where (`path`, e.g. `user.email`) and what. */
export interface PayloadIssue {
  /** Dotted path of the offending field; `''` for the payload as a whole. */
  path: string;
  message: string;
}

/**
 * A job payload does not match its task's schema. Raised by `enqueue` before anything is
 * written (a bad payload never enters the queue), and recorded as the `last_error` of a job
 * that `taskList` failed for good. `issues` names each offending field. Nothing was written
 * when `enqueue` throws it: the surrounding transaction stays usable.
 *
 * @example
 * try {
 *   await jobs.enqueue(tx, 'send_welcome_email', input);
 * } catch (error) {
 *   if (error instanceof InvalidPayloadError) return badRequest(error.issues);
 *   throw error;
 * }
 */
export class InvalidPayloadError extends RacefreeError {
  readonly task: string;
  readonly issues: readonly PayloadIssue[];

  constructor(task: string, issues: readonly PayloadIssue[]) {
    super(
      'INVALID_PAYLOAD',
      `Invalid payload for task "${task}": ${issues
        .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
        .join('; ')}. Fix the caller that builds this payload; the job is not retried.`,
    );
    this.task = task;
    this.issues = issues;
  }
}

/**
 * A task name that `defineTasks` was not given (`enqueue`, `enqueueOnCommit`, `taskList`);
 * raised before any SQL. TypeScript catches it at compile time for literal names.
 *
 * @example
 * await jobs.enqueue(tx, name as never, payload); // UnknownTaskError if name is not a task
 */
export class UnknownTaskError extends RacefreeError {
  readonly task: string;

  constructor(task: string, known: readonly string[]) {
    super(
      'UNKNOWN_TASK',
      `Unknown task ${JSON.stringify(task)}; the tasks defined are ${known.map((name) => `"${name}"`).join(', ') || '(none)'}. Add it to defineTasks({ … }).`,
    );
    this.task = task;
  }
}

/**
 * `enqueue` was given a PostgreSQL transaction on a database other than the queue's: the job
 * cannot commit or roll back with that transaction, so enqueuing it there would reintroduce the
 * "job runs before its data commits" race. Use `delivery: 'outbox'` (the job goes to that
 * database's outbox and is relayed exactly once), `jobs.enqueueOnCommit` for that database, or
 * keep the queue in the same database. Raised before anything is written.
 *
 * @example
 * const jobs = createJobs({ tasks, connectionString: queueUrl, delivery: 'outbox' });
 * await atomic(otherDb, (tx) => jobs.enqueue(tx, 'send_welcome_email', { userId })); // accepted
 */
export class ForeignTransactionError extends RacefreeError {
  constructor(queue: string, given: string) {
    super(
      'FOREIGN_TRANSACTION',
      `enqueue was given a PostgreSQL transaction on ${given}, but the job queue lives in ${queue}: a job added there could neither commit nor roll back with this transaction. Use createJobs({ delivery: 'outbox' }) to write the job to that database's outbox (relayed exactly once after commit), jobs.enqueueOnCommit(name, payload) to dispatch after this transaction commits, or pass a transaction of the queue's database.`,
    );
  }
}

/**
 * graphile-worker's `add_job` (or `add_jobs`) returned no job even after retries: with a
 * `jobKey`, it returns nothing when the existing job with that key gets locked by a worker
 * between its two statements (graphile/worker issue 580). Each call is re-issued up to 5
 * times first. Retry the enclosing transaction.
 *
 * @example
 * await atomic(db, (tx) => jobs.enqueue(tx, 'digest', payload, { jobKey }), { retries: 3 });
 */
export class JobNotAddedError extends RacefreeError {
  readonly attempts: number;

  constructor(task: string, jobKey: string | undefined, attempts: number) {
    super(
      'JOB_NOT_ADDED',
      `graphile-worker's add_job returned no job for task "${task}"${jobKey === undefined ? '' : ` (jobKey ${JSON.stringify(jobKey)})`} on ${attempts} attempts: the job with that key kept being picked up by a worker at the same moment. Retry the transaction.`,
    );
    this.attempts = attempts;
  }
}

/**
 * The outbox table is missing in the database a job was written to, or a relay drains. On
 * PostgreSQL the failed INSERT has aborted the caller's transaction: it rolls back whole.
 *
 * @example
 * await installOutbox(db); // at start-up, once: idempotent
 */
export class OutboxMissingError extends RacefreeError {
  constructor(cause: unknown, database: 'PostgreSQL' | 'MySQL/MariaDB' = 'MySQL/MariaDB') {
    const [table, ddl] =
      database === 'PostgreSQL'
        ? ['pgOutboxTable', 'PG_OUTBOX_MIGRATION_SQL']
        : ['outboxTable', 'OUTBOX_MIGRATION_SQL'];
    super(
      'OUTBOX_MISSING',
      `The racefree_outbox table does not exist in this ${database} database. Run installOutbox(db) once at start-up, or add ${table} (or ${ddl}) to your migrations.`,
      { cause },
    );
  }
}
