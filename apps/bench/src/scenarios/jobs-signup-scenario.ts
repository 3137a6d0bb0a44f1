import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery } from '@racefree/jobs';
import { type AnyPgDatabase, atomic, type Database } from '@racefree/transactions';
import type pg from 'pg';
import { benchJobs, signups } from '../bench-jobs.js';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin, BenchClient } from '../open-clients.js';
import type { Contender, Scenario } from '../scenario.js';

/** What one successful operation of each contender leaves: jobs, customers, raw outbox rows. */
const LEAVES: Record<string, { jobs: number; customers: number; rawOutbox: number }> = {
  'raw-insert': { jobs: 0, customers: 1, rawOutbox: 0 },
  'racefree-signup': { jobs: 1, customers: 1, rawOutbox: 0 },
  'raw-signup': { jobs: 1, customers: 1, rawOutbox: 0 },
  'racefree-signup-outbox': { jobs: 1, customers: 1, rawOutbox: 0 },
  'raw-signup-outbox': { jobs: 0, customers: 1, rawOutbox: 1 },
  'raw-add-job': { jobs: 1, customers: 0, rawOutbox: 0 },
  'racefree-enqueue': { jobs: 1, customers: 0, rawOutbox: 0 },
};
/** How long the after-commit relays may take to empty the outbox after a run. */
const DRAIN_MS = 10_000;
const ADD_JOB = "select graphile_worker.add_job('send_welcome_email', ?::json)";

/**
 * "Create a customer and enqueue the welcome email" (queue in the same PostgreSQL database, no
 * worker running): `jobs.enqueue(tx, …)` inside `atomic`, with the default delivery (`add_job`
 * in the transaction) and with `delivery: 'outbox'` (a row in the transaction, relayed after
 * the commit with `add_jobs`), each against a bare customer INSERT (the issue's floor) and the
 * same transaction by hand; the enqueue alone against a raw autocommit `add_job`. Invariant:
 * one job per enqueue (the outbox drained first), one customer per insert.
 */
export function jobsSignupScenario(admin: Admin, queuePool: pg.Pool): Scenario {
  // One `jobs` per database and delivery, as an application has.
  const perDatabase = new WeakMap<object, Record<Delivery, ReturnType<typeof benchJobs>>>();
  const jobsFor = (c: BenchClient, delivery: Delivery) => {
    let found = perDatabase.get(c.db);
    if (!found) {
      found = {
        add_job: benchJobs(queuePool, { db: c.db }),
        outbox: benchJobs(queuePool, { db: c.db, delivery: 'outbox' }),
      };
      perDatabase.set(c.db, found);
    }
    return found[delivery];
  };
  const email = (key: string) => `${key}@signup.example`;
  // Prepared, like the floor's INSERT: Drizzle's builder alone is described first on
  // postgres.js, one more round trip that would be charged to atomic and the enqueue.
  const insertCustomer = async (tx: Database, key: string) => {
    const [customer] = await (tx as AnyPgDatabase)
      .insert(signups)
      .values({ email: email(key), name: 'Reader' })
      .returning({ id: signups.id })
      .prepare('bench_signup')
      .execute();
    return customer?.id as number;
  };
  const signUp =
    (delivery: Delivery): Contender['op'] =>
    async (c, key) => {
      await atomic(c.db, async (tx) => {
        const customerId = await insertCustomer(tx, key);
        await jobsFor(c, delivery).enqueue(tx, 'send_welcome_email', { customerId });
      });
      return undefined;
    };
  const rawSignUp =
    (second: (tx: BenchClient['raw'], customerId: number) => Promise<unknown>): Contender['op'] =>
    async (c, key) => {
      await c.raw.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: number }>(
          'insert into signups (email, name) values (?, ?) returning id',
          [email(key), 'Reader'],
        );
        await second(tx, rows[0]?.id as number);
      });
      return undefined;
    };
  const contenders: Contender[] = [
    {
      id: 'raw-insert',
      label: 'floor: bare customer INSERT … RETURNING id (autocommit, no job)',
      role: 'floor',
      async op(c, key) {
        await c.raw.query('insert into signups (email, name) values (?, ?) returning id', [
          email(key),
          'Reader',
        ]);
        return undefined;
      },
    },
    {
      id: 'racefree-signup',
      label: 'racefree: atomic(INSERT customer + jobs.enqueue(tx, …)), add_job delivery',
      role: 'racefree',
      baseline: 'raw-insert',
      sameWorkBaseline: 'raw-signup',
      op: signUp('add_job'),
    },
    {
      id: 'raw-signup',
      label: 'raw, same work: BEGIN; INSERT customer; SELECT graphile_worker.add_job(…); COMMIT',
      role: 'reference',
      op: rawSignUp((tx, customerId) => tx.query(ADD_JOB, [JSON.stringify({ customerId })])),
    },
    {
      id: 'racefree-signup-outbox',
      label: "racefree: the same, delivery: 'outbox' (relayed after commit with add_jobs)",
      role: 'racefree',
      baseline: 'raw-insert',
      sameWorkBaseline: 'raw-signup-outbox',
      op: signUp('outbox'),
    },
    {
      id: 'raw-signup-outbox',
      label:
        'raw, the transaction of an outbox: BEGIN; INSERT customer; INSERT outbox row; COMMIT (no relay)',
      role: 'reference',
      op: rawSignUp((tx, customerId) =>
        tx.query('insert into raw_outbox (task_identifier, job) values (?, ?::json)', [
          'send_welcome_email',
          JSON.stringify({ payload: { customerId } }),
        ]),
      ),
    },
    {
      id: 'raw-add-job',
      label: 'floor: SELECT graphile_worker.add_job(…) (autocommit)',
      role: 'floor',
      async op(c) {
        await c.raw.query(ADD_JOB, [JSON.stringify({ customerId: c.index })]);
        return undefined;
      },
    },
    {
      id: 'racefree-enqueue',
      label: 'racefree: atomic(jobs.enqueue(tx, …)), the enqueue alone in a transaction',
      role: 'racefree',
      baseline: 'raw-add-job',
      async op(c) {
        await atomic(c.db, (tx) =>
          jobsFor(c, 'add_job').enqueue(tx, 'send_welcome_email', { customerId: c.index }),
        );
        return undefined;
      },
    },
  ];
  return {
    id: 'jobs/signup',
    group: 'jobs',
    title: 'create customer + enqueue welcome email',
    keys: {
      ...KEY_MIXES.unique,
      description:
        'a new customer (unique email) per operation; graphile-worker queue in the same database, no worker running',
    },
    contenders,
    // The after-commit relay runs one pass at a time per database, shared by the
    // transactions that commit meanwhile: a database per client would defeat that.
    pooled: true,
    async reset() {
      await admin.query('truncate table signups, raw_outbox');
      // graphile-worker's documented admin function, not its private table.
      await admin.query(
        'select count(*) from graphile_worker.complete_jobs(array(select id from graphile_worker.jobs))',
      );
    },
    async check(contender, succeeded) {
      let outbox = 0;
      for (const deadline = Date.now() + DRAIN_MS; Date.now() < deadline; await sleep(20)) {
        const [row] = await admin.query<{ n: number | string }>(
          'select count(*) as n from racefree_outbox',
        );
        outbox = Number(row?.n ?? 0);
        if (outbox === 0) break;
      }
      const [row] = await admin.query<Record<'jobs' | 'customers' | 'raw_outbox', number | string>>(
        'select (select count(*) from graphile_worker.jobs) as jobs, (select count(*) from signups) as customers, (select count(*) from raw_outbox) as raw_outbox',
      );
      const leaves = LEAVES[contender.id] ?? { jobs: 0, customers: 0, rawOutbox: 0 };
      const jobs = Number(row?.jobs ?? 0);
      const customers = Number(row?.customers ?? 0);
      const rawOutbox = Number(row?.raw_outbox ?? 0);
      const off =
        Math.abs(jobs - leaves.jobs * succeeded) +
        Math.abs(customers - leaves.customers * succeeded) +
        Math.abs(rawOutbox - leaves.rawOutbox * succeeded) +
        outbox;
      return {
        held: off === 0,
        anomalies: off,
        detail: `${succeeded} operations: ${jobs} jobs, ${customers} customers${outbox ? `, ${outbox} outbox rows not relayed after ${DRAIN_MS / 1000} s` : ''}`,
      };
    },
  };
}
