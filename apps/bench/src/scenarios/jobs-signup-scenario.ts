import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery } from '@racefree/jobs';
import { type AnyPgDatabase, atomic } from '@racefree/transactions';
import type pg from 'pg';
import { benchJobs, signups } from '../bench-jobs.js';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin, BenchClient, Raw } from '../open-clients.js';
import type { Contender, ContenderRole, Scenario } from '../scenario.js';

/** What one successful operation of each contender leaves: jobs, customers, raw outbox rows. */
const LEAVES: Record<string, [number, number, number]> = {
  'raw-insert': [0, 1, 0],
  'racefree-signup': [1, 1, 0],
  'raw-signup': [1, 1, 0],
  'racefree-signup-outbox': [1, 1, 0],
  'raw-signup-outbox': [0, 1, 1],
  'raw-add-job': [1, 0, 0],
  'racefree-enqueue': [1, 0, 0],
};
/** How long the after-commit relays may take to empty the outbox after a run. */
const DRAIN_MS = 10_000;
const ADD_JOB = "select graphile_worker.add_job('send_welcome_email', ?::json)";
const INSERT = 'insert into signups (email, name) values (?, ?) returning id';
const email = (key: string) => `${key}@signup.example`;

/**
 * "Create a customer and enqueue the welcome email" (queue in the same PostgreSQL database, no
 * worker running): `jobs.enqueue(tx, …)` inside `atomic`, with the default delivery (`add_job`
 * in the transaction) and with `delivery: 'outbox'` (a row in the transaction, relayed after
 * the commit with `add_jobs`), each against a bare customer INSERT (the floor) and the
 * same transaction by hand; the enqueue alone against a raw autocommit `add_job`. Invariant:
 * one job per enqueue (the outbox drained first), one customer per insert.
 */
export function jobsSignupScenario(admin: Admin, queuePool: pg.Pool): Scenario {
  // One `jobs` per database and delivery, as an application has.
  const jobs = new WeakMap<object, Record<Delivery, ReturnType<typeof benchJobs>>>();
  const jobsFor = (c: BenchClient, delivery: Delivery) => {
    const { db } = c;
    const found = jobs.get(db) ?? {
      add_job: benchJobs(queuePool, { db }),
      outbox: benchJobs(queuePool, { db, delivery: 'outbox' }),
    };
    jobs.set(db, found);
    return found[delivery];
  };
  const racefree = (
    id: string,
    delivery: Delivery,
    label: string,
    sameWork: string,
  ): Contender => ({
    id,
    label,
    role: 'racefree',
    baseline: 'raw-insert',
    sameWorkBaseline: sameWork,
    async op(c, key) {
      await atomic(c.db, async (tx) => {
        // Prepared, like the floor's INSERT: Drizzle's builder alone is described first on
        // postgres.js, one more round trip that would be charged to atomic and the enqueue.
        const [customer] = await (tx as AnyPgDatabase)
          .insert(signups)
          .values({ email: email(key), name: 'Reader' })
          .returning({ id: signups.id })
          .prepare('bench_signup')
          .execute();
        const customerId = customer?.id as number;
        await jobsFor(c, delivery).enqueue(tx, 'send_welcome_email', { customerId });
      });
      return undefined;
    },
  });
  /** A hand-written contender: `run` on the connection, or in a transaction of its statements. */
  const raw = (
    id: string,
    role: ContenderRole,
    label: string,
    run: (tx: Raw, key: string, c: BenchClient) => Promise<unknown>,
    inTransaction = true,
  ): Contender => ({
    id,
    role,
    label,
    async op(c, key) {
      await (inTransaction ? c.raw.transaction((tx) => run(tx, key, c)) : run(c.raw, key, c));
      return undefined;
    },
  });
  const customer = async (tx: Raw, key: string) =>
    (await tx.query<{ id: number }>(INSERT, [email(key), 'Reader'])).rows[0]?.id;
  const contenders: Contender[] = [
    raw(
      'raw-insert',
      'floor',
      'floor: bare customer INSERT … RETURNING id (autocommit, no job)',
      customer,
      false,
    ),
    racefree(
      'racefree-signup',
      'add_job',
      'racefree: atomic(INSERT customer + jobs.enqueue(tx, …)), add_job delivery',
      'raw-signup',
    ),
    raw(
      'raw-signup',
      'reference',
      'raw, same work: BEGIN; INSERT customer; SELECT graphile_worker.add_job(…); COMMIT',
      async (tx, key) =>
        tx.query(ADD_JOB, [JSON.stringify({ customerId: await customer(tx, key) })]),
    ),
    racefree(
      'racefree-signup-outbox',
      'outbox',
      "racefree: the same, delivery: 'outbox' (relayed after commit with add_jobs)",
      'raw-signup-outbox',
    ),
    raw(
      'raw-signup-outbox',
      'reference',
      'raw, the transaction of an outbox: BEGIN; INSERT customer; INSERT outbox row; COMMIT (no relay)',
      async (tx, key) =>
        tx.query('insert into raw_outbox (task_identifier, job) values (?, ?::json)', [
          'send_welcome_email',
          JSON.stringify({ payload: { customerId: await customer(tx, key) } }),
        ]),
    ),
    raw(
      'raw-add-job',
      'floor',
      'floor: SELECT graphile_worker.add_job(…) (autocommit)',
      (tx, _key, c) => tx.query(ADD_JOB, [JSON.stringify({ customerId: c.index })]),
      false,
    ),
    {
      id: 'racefree-enqueue',
      label: 'racefree: atomic(jobs.enqueue(tx, …)), the enqueue alone in a transaction',
      role: 'racefree',
      baseline: 'raw-add-job',
      async op(c) {
        const queue = jobsFor(c, 'add_job');
        await atomic(c.db, (tx) =>
          queue.enqueue(tx, 'send_welcome_email', { customerId: c.index }),
        );
        return undefined;
      },
    },
  ];
  const description =
    'a new customer (unique email) per operation; graphile-worker queue in the same database, no worker running';
  return {
    id: 'jobs/signup',
    group: 'jobs',
    title: 'create customer + enqueue welcome email',
    keys: { ...KEY_MIXES.unique, description },
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
      const count = async (table: string) =>
        Number(
          (await admin.query<{ n: number | string }>(`select count(*) as n from ${table}`))[0]?.n,
        );
      let outbox = await count('racefree_outbox');
      for (const deadline = Date.now() + DRAIN_MS; outbox > 0 && Date.now() < deadline; )
        outbox = await sleep(20).then(() => count('racefree_outbox'));
      const found = [
        await count('graphile_worker.jobs'),
        await count('signups'),
        await count('raw_outbox'),
      ];
      const leaves = LEAVES[contender.id] ?? [0, 0, 0];
      const off = found.reduce(
        (sum, n, i) => sum + Math.abs(n - (leaves[i] ?? 0) * succeeded),
        outbox,
      );
      const stuck = outbox ? `, ${outbox} outbox rows not relayed after ${DRAIN_MS / 1000} s` : '';
      return {
        held: off === 0,
        anomalies: off,
        detail: `${succeeded} operations: ${found[0]} jobs, ${found[1]} customers${stuck}`,
      };
    },
  };
}
