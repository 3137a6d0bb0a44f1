import {
  type AtomicOptions,
  atomic,
  type Database,
  InvalidArgumentError,
  type TransactionOf,
} from '@racefree/transactions';
import type { JobHelpers, TaskList } from 'graphile-worker';
import { type PayloadOutput, type TaskName, type TaskSchemas, taskSchema } from './define-tasks.js';
import { InvalidPayloadError } from './errors.js';
import type { FailedAttempt } from './permanently-fail-job.js';
import { validatePayload } from './validate-payload.js';

/**
 * A task handler: the validated payload (the schema's output), and graphile-worker's helpers
 * (plus `tx` when atomic). A thrown error fails the attempt; graphile-worker retries it.
 */
export type TaskHandler<P, C> = (payload: P, helpers: C) => void | Promise<void>;

/**
 * One handler per task, each typed from its schema's output: a missing or misspelt task is a
 * compile error.
 *
 * @example
 * const handlers: TaskHandlers<typeof tasks> = { send_welcome_email: async ({ userId }) => {} };
 */
export type TaskHandlers<T extends TaskSchemas, C = JobHelpers> = {
  [K in TaskName<T>]: TaskHandler<PayloadOutput<T, K>, C>;
};

/**
 * The helpers an atomic handler gets: graphile-worker's, plus the transaction it runs in.
 * Write with `tx` (or `current(db)`): those writes commit only if the handler returns.
 */
export type AtomicJobHelpers<D extends Database> = JobHelpers & {
  /** The transaction the handler runs in; `current(db)` returns it too. */
  tx: TransactionOf<D>;
};

/**
 * Options of `jobs.taskList`: the database whose transaction each handler runs in, and the
 * `atomic` options for it (`retries`, `isolationLevel`; default: none, the database's level).
 *
 * @example
 * jobs.taskList(handlers, { atomic: db, retries: 3 });
 */
export interface TaskListOptions<D extends Database> extends AtomicOptions {
  /** Run each handler in `atomic(db, …)`: a failed attempt leaves nothing behind. */
  atomic: D;
}

/**
 * Builds the graphile-worker task list (see `Jobs.taskList`). `failForGood` is told of each
 * attempt that found a bad payload, after which the task throws (see `permanentlyFailAfterAttempt`).
 */
export function buildTaskList(
  tasks: TaskSchemas,
  handlers: Record<string, TaskHandler<never, never>>,
  options: TaskListOptions<Database> | undefined,
  failForGood: (attempt: FailedAttempt, message: string) => void,
): TaskList {
  const { atomic: atomicDb, ...atomicOptions } = options ?? {};
  const list: TaskList = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const schemaOfTask = taskSchema(tasks, name);
    if (typeof handler !== 'function')
      throw new InvalidArgumentError(`The handler of task "${name}" must be a function.`);
    const run = handler as unknown as (payload: unknown, helpers: unknown) => unknown;
    list[name] = async (payload, helpers) => {
      let value: unknown;
      try {
        value = await validatePayload(name, schemaOfTask, payload);
      } catch (error) {
        // Retrying cannot fix a payload. This attempt fails (graphile-worker records the error
        // and unlocks the job), and the job is then failed for good before its retry is due:
        // its last_error names the field, and it is never fetched again (no retry storm).
        if (error instanceof InvalidPayloadError) failForGood(helpers.job, error.message);
        throw error;
      }
      if (!atomicDb) {
        await run(value, helpers);
        return;
      }
      // The handler's writes commit only if it succeeds; a thrown error rolls them back before
      // graphile-worker schedules the retry, so a retried attempt starts from a clean slate.
      await atomic(
        atomicDb,
        async (tx) => {
          await run(value, { ...helpers, tx });
        },
        atomicOptions,
      );
    };
  }
  return list;
}
