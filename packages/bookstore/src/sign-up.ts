import type { Jobs } from '@racefree/jobs';
import { getOrCreate } from '@racefree/rows';
import { atomic, type Database } from '@racefree/transactions';
import { bookstoreTables } from './bookstore-tables.js';
import type { BookstoreTasks } from './bookstore-tasks.js';

/** A customer as the services return it. */
export interface Customer {
  id: number;
  email: string;
  name: string;
}

/**
 * Signs a customer up, idempotently by email, and enqueues the welcome email only when the
 * customer was created — both in one transaction, so the job exists if and only if the
 * customer does (on PostgreSQL the job is added on the same transaction; on MySQL it goes to
 * the outbox in it). Concurrent sign-ups of one email create one customer and one job.
 *
 * @example
 * const { customer, created } = await signUp(db, jobs, { email: 'ann@example.com', name: 'Ann' });
 */
export async function signUp(
  db: Database,
  jobs: Pick<Jobs<BookstoreTasks>, 'enqueue'>,
  input: { email: string; name: string },
): Promise<{ customer: Customer; created: boolean }> {
  return atomic(
    db,
    async (tx) => {
      const { customers } = bookstoreTables(tx);
      const { row, created } = await getOrCreate(tx, customers, {
        where: { email: input.email },
        defaults: { name: input.name },
      });
      if (created)
        await jobs.enqueue(tx, 'send_welcome_email', { customerId: row.id, email: row.email });
      return { customer: { id: row.id, email: row.email, name: row.name }, created };
    },
    { retries: 5 },
  );
}
