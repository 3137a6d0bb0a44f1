import type { Deployment } from './deployment.js';
import { pendingWork } from './wait-for-drain.js';

/** One invariant and whether it held. */
export interface InvariantOutcome {
  invariant: string;
  held: boolean;
  detail?: string;
}

/** What the clients were told succeeded. */
export interface Acknowledged {
  /** email → customer id, for every sign-up answered 201/200. */
  customers: ReadonlyMap<string, number>;
  /** Every order id answered 201. */
  orders: ReadonlySet<number>;
}

const n = (value: unknown) => Number(value);

/** Reads each book's quantity (the stock before the load, for the stock invariant). */
export async function readStock(deployment: Deployment): Promise<Map<number, number>> {
  const rows = await deployment.data.rows<{ id: unknown; quantity: unknown }>(
    'select id, quantity from books',
  );
  return new Map(rows.map((row) => [n(row.id), n(row.quantity)]));
}

/** The first five items, and how many there were when there were more: for details. */
export function sample(items: readonly unknown[]): string {
  return items.length > 5
    ? `${items.slice(0, 5).join(', ')} … (${items.length})`
    : items.join(', ');
}

/**
 * Checks the bookstore's invariants in its databases (after the load stopped and the queue
 * drained):
 * - stock = start − orders for every book, and never negative;
 * - every sign-up and order a client was told succeeded is in the database;
 * - every committed customer had exactly one welcome-email job added (the audit trigger saw
 *   every job ever added) and got exactly one email;
 * - no job or email for a customer that did not commit;
 * - the queue is drained: no job left over or failed, no outbox row left behind.
 */
export async function checkBookstoreInvariants(
  deployment: Deployment,
  startStock: ReadonlyMap<number, number>,
  acknowledged: Acknowledged,
): Promise<InvariantOutcome[]> {
  const { data, queue } = deployment;
  const books = await data.rows<{ id: unknown; quantity: unknown }>(
    'select id, quantity from books',
  );
  const ordersPerBook = new Map(
    (
      await data.rows<{ book_id: unknown; orders: unknown }>(
        'select book_id, count(*) as orders from orders group by book_id',
      )
    ).map((row) => [n(row.book_id), n(row.orders)]),
  );
  const orderIds = new Set(
    (await data.rows<{ id: unknown }>('select id from orders')).map((row) => n(row.id)),
  );
  const customers = new Map(
    (await data.rows<{ id: unknown; email: unknown }>('select id, email from customers')).map(
      (row) => [n(row.id), String(row.email)],
    ),
  );
  const emails = new Map(
    (
      await data.rows<{ customer_id: unknown; sent: unknown }>(
        `select customer_id, count(*) as sent from sent_emails where kind = 'welcome' group by customer_id`,
      )
    ).map((row) => [n(row.customer_id), n(row.sent)]),
  );
  const jobs = await queue<{ customer_id: string; jobs: string; emails: string[] }[]>`
    select customer_id::text, count(*)::text as jobs, array_agg(distinct email) as emails
      from reliability_job_audit where task = 'send_welcome_email' group by customer_id`;
  const jobsPerCustomer = new Map(jobs.map((row) => [n(row.customer_id), row]));

  const outcomes: InvariantOutcome[] = [];

  const stockErrors: string[] = [];
  for (const book of books) {
    const id = n(book.id);
    const start = startStock.get(id);
    const quantity = n(book.quantity);
    const sold = ordersPerBook.get(id) ?? 0;
    if (quantity < 0) stockErrors.push(`book ${id} has stock ${quantity}`);
    if (start === undefined) stockErrors.push(`book ${id} appeared during the load`);
    else if (quantity !== start - sold)
      stockErrors.push(`book ${id}: ${start} − ${sold} orders ≠ stock ${quantity}`);
  }
  outcomes.push({
    invariant: 'stock = start − orders for every book; none negative',
    held: stockErrors.length === 0,
    detail: stockErrors.length
      ? sample(stockErrors)
      : `${books.length} books, ${orderIds.size} orders`,
  });

  const lostCustomers = [...acknowledged.customers].filter(
    ([email, id]) => customers.get(id) !== email,
  );
  const lostOrders = [...acknowledged.orders].filter((id) => !orderIds.has(id));
  outcomes.push({
    invariant: 'every acknowledged sign-up and order is in the database',
    held: lostCustomers.length === 0 && lostOrders.length === 0,
    detail:
      lostCustomers.length || lostOrders.length
        ? `missing customers: ${sample(lostCustomers.map(([e]) => e))}; missing orders: ${sample(lostOrders)}`
        : `${acknowledged.customers.size} sign-ups, ${acknowledged.orders.size} orders acknowledged`,
  });

  const wrongCount: string[] = [];
  for (const [id, email] of customers) {
    const job = jobsPerCustomer.get(id);
    const sent = emails.get(id) ?? 0;
    if (n(job?.jobs ?? 0) !== 1 || sent !== 1)
      wrongCount.push(`customer ${id}: ${job?.jobs ?? 0} job(s), ${sent} email(s)`);
    else if (job?.emails.length !== 1 || job.emails[0] !== email)
      wrongCount.push(`customer ${id}: job for ${job?.emails.join('/')}, not ${email}`);
  }
  outcomes.push({
    invariant: 'every committed customer: exactly one welcome job and one email',
    held: wrongCount.length === 0,
    detail: wrongCount.length ? sample(wrongCount) : `${customers.size} customers`,
  });

  const orphans = [
    ...[...jobsPerCustomer.keys()].filter((id) => !customers.has(id)).map((id) => `job for ${id}`),
    ...[...emails.keys()].filter((id) => !customers.has(id)).map((id) => `email to ${id}`),
  ];
  outcomes.push({
    invariant: 'no job or email for a customer that did not commit',
    held: orphans.length === 0,
    detail: orphans.length ? sample(orphans) : undefined,
  });

  const pending = await pendingWork(deployment);
  const [failed] = await queue<{ errors: string | null }[]>`
    select string_agg(
             format('job %s: attempts %s, locked_by %s, runs in %s s, %s', id, attempts,
                    coalesce(locked_by, '-'), round(extract(epoch from run_at - now())),
                    coalesce(left(last_error, 120), 'no error')), ' | ') as errors
      from (select * from graphile_worker._private_jobs order by id limit 3) as jobs`;
  outcomes.push({
    invariant: 'queue drained: no job left, none failed, outbox empty',
    held: pending.jobs === 0 && pending.outbox === 0,
    detail:
      pending.jobs || pending.outbox
        ? `${pending.jobs} job(s) left, ${pending.outbox} outbox row(s)${failed?.errors ? `; ${failed.errors}` : ''}`
        : undefined,
  });
  return outcomes;
}
