import { atomic, executeRows, renderOnce } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { type BenchTasks, benchTasks, type JobsModule } from '../bench-tasks.js';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin } from '../open-admin.js';
import type { PostgresClient } from '../open-clients.js';
import type { Contender, Scenario } from '../scenario.js';
import { signups } from '../signup-table.js';

/** Contenders that add a job / insert a customer per successful operation. */
const ENQUEUES = new Set(['racefree-signup', 'raw-signup', 'raw-add-job', 'racefree-enqueue']);
/** Customers inserted per successful operation. */
const CUSTOMERS_PER_OP: Record<string, number> = {
  'raw-insert': 1,
  'racefree-signup': 1,
  'raw-signup': 1,
  'raw-two-inserts': 2,
};

/**
 * "Create a customer and enqueue the welcome email" (PostgreSQL, queue in the same database):
 * racefree `jobs.enqueue(tx, …)` inside `atomic` against a bare customer insert (the issue's
 * target: ≥ 0.85×) and against the same transaction written by hand; and the enqueue alone
 * inside a transaction against a raw autocommit `graphile_worker.add_job`. For scale, the same
 * transaction shape without any job (two customer inserts): what a second INSERT costs, the
 * least an enqueue can cost. No worker runs meanwhile. The invariant: one job per successful
 * enqueue, one customer per successful insert.
 */
export function jobsThroughputScenario(
  admin: Admin,
  jobsModule: JobsModule,
  queuePool: pg.Pool,
): Scenario<PostgresClient> {
  const tasks = benchTasks(jobsModule);
  // One `jobs` per client's database, as an application has one per Drizzle database: then
  // the transaction is known to be on the queue's database without a probe query.
  const perClient = new WeakMap<
    PostgresClient,
    ReturnType<typeof jobsModule.createJobs<BenchTasks>>
  >();
  const jobsFor = (c: PostgresClient) => {
    let found = perClient.get(c);
    if (!found) {
      found = jobsModule.createJobs({ tasks, pool: queuePool, db: c.db });
      perClient.set(c, found);
    }
    return found;
  };
  const email = (key: string) => `${key}@signup.example`;
  // The customer INSERT is the same work as the hand-written transaction's and is sent the
  // same way, prepared (racefree's executeRows + renderOnce), so the ratio measures atomic and
  // the enqueue. Drizzle's builder would send it unprepared: one more round trip.
  const insertCustomer = renderOnce(
    sql`insert into ${signups} (email, name) values (${sql.placeholder('email')}, 'Reader') returning id`,
  );
  const contenders: Contender<PostgresClient>[] = [
    {
      id: 'raw-insert',
      label: 'floor: bare customer INSERT … RETURNING id (autocommit, no job)',
      role: 'floor',
      async op(c, key) {
        await c.sql`insert into signups (email, name) values (${email(key)}, 'Reader') returning id`;
        return undefined;
      },
    },
    {
      id: 'racefree-signup',
      label: 'racefree: atomic(INSERT customer + jobs.enqueue(tx, welcome email))',
      role: 'racefree',
      baseline: 'raw-insert',
      sameWorkBaseline: 'raw-signup',
      async op(c, key) {
        await atomic(c.db, async (tx) => {
          const [customer] = await executeRows<{ id: number }>(
            tx,
            insertCustomer(tx, { email: email(key) }),
          );
          await jobsFor(c).enqueue(tx, 'send_welcome_email', {
            customerId: customer?.id as number,
          });
        });
        return undefined;
      },
    },
    {
      id: 'raw-signup',
      label: 'raw, same work: BEGIN; INSERT customer; SELECT graphile_worker.add_job(…); COMMIT',
      role: 'reference',
      async op(c, key) {
        await c.sql.begin(async (tx) => {
          const [customer] = await tx<{ id: number }[]>`
            insert into signups (email, name) values (${email(key)}, 'Reader') returning id`;
          await tx`select graphile_worker.add_job('send_welcome_email', ${JSON.stringify({
            customerId: customer?.id,
          })}::json)`;
        });
        return undefined;
      },
    },
    {
      id: 'raw-two-inserts',
      label: 'raw, no job: BEGIN; INSERT customer; INSERT another customer; COMMIT',
      role: 'reference',
      async op(c, key) {
        await c.sql.begin(async (tx) => {
          await tx`insert into signups (email, name) values (${email(key)}, 'Reader') returning id`;
          await tx`insert into signups (email, name) values (${email(`${key}.2`)}, 'Reader')`;
        });
        return undefined;
      },
    },
    {
      id: 'raw-add-job',
      label: 'floor: SELECT graphile_worker.add_job(…) (autocommit)',
      role: 'floor',
      async op(c) {
        await c.sql`select graphile_worker.add_job('send_welcome_email', ${JSON.stringify({
          customerId: c.index,
        })}::json)`;
        return undefined;
      },
    },
    {
      id: 'racefree-enqueue',
      label: 'racefree: atomic(jobs.enqueue(tx, …)) — the enqueue alone, in a transaction',
      role: 'racefree',
      baseline: 'raw-add-job',
      async op(c) {
        await atomic(c.db, async (tx) => {
          await jobsFor(c).enqueue(tx, 'send_welcome_email', { customerId: c.index });
        });
        return undefined;
      },
    },
  ];
  return {
    id: 'jobs/signup',
    group: 'jobs',
    title: 'create customer + enqueue welcome email',
    description:
      'a new customer (unique email) per operation; graphile-worker queue in the same database, no worker running',
    keys: KEY_MIXES.unique,
    contenders,
    // jobs.enqueue probes the queue's identity once per database through the root database.
    spareConnection: true,
    async reset() {
      await admin.query('truncate table signups, graphile_worker._private_jobs');
    },
    async check(contender, counts) {
      const [row] = await admin.query<{ jobs: number | string; customers: number | string }>(
        'select (select count(*) from graphile_worker._private_jobs) as jobs, (select count(*) from signups) as customers',
      );
      const jobs = Number(row?.jobs ?? 0);
      const customers = Number(row?.customers ?? 0);
      const expectedJobs = ENQUEUES.has(contender.id) ? counts.allSucceeded : 0;
      const expectedCustomers = (CUSTOMERS_PER_OP[contender.id] ?? 0) * counts.allSucceeded;
      const off = Math.abs(jobs - expectedJobs) + Math.abs(customers - expectedCustomers);
      return {
        held: off === 0,
        anomalies: off,
        detail: `${counts.allSucceeded} operations: ${jobs} jobs, ${customers} customers`,
      };
    },
  };
}
