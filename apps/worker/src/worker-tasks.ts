import { sendWelcomeEmail, welcomeEmailPayload } from '@racefree/bookstore';
import { type AtomicJobHelpers, defineTasks, type TaskHandlers } from '@racefree/jobs';
import type { AnyPgDatabase, Database } from '@racefree/transactions';
import type { Log } from './log.js';
import { RECORD_EVENT_TABLE_SQL, recordEvent, recordEventPayload } from './record-event.js';

/**
 * Every task this worker runs. To add one: its payload schema here, its handler in
 * `workerHandlers`, its table (if any) in `WORKER_TABLES_SQL` — the types make a task without
 * a handler, or a handler with the wrong payload type, a compile error.
 */
export const workerTasks = defineTasks({
  record_event: recordEventPayload,
  send_welcome_email: welcomeEmailPayload,
});

/**
 * The handlers, run in `atomic(queueDb, …)`: a failed attempt leaves no writes behind.
 * `bookstoreDb` is where the bookstore's data lives: the queue's database on PostgreSQL, the
 * MySQL/MariaDB database otherwise.
 */
export function workerHandlers(
  bookstoreDb: Database,
  log: Log,
): TaskHandlers<typeof workerTasks, AtomicJobHelpers<AnyPgDatabase>> {
  return {
    record_event: recordEvent,
    send_welcome_email: async (payload) => {
      const outcome = await sendWelcomeEmail(bookstoreDb, payload);
      log(
        'info',
        outcome === 'sent' ? 'welcome email sent' : 'welcome email was already sent; nothing to do',
        {
          customerId: payload.customerId,
        },
      );
    },
  };
}

/** DDL the handlers need in the queue's database (idempotent). */
export const WORKER_TABLES_SQL: readonly string[] = [RECORD_EVENT_TABLE_SQL];
