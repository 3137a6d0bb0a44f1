import { bookstoreTables, runStatement } from '@racefree/bookstore';
import { getOrCreate } from '@racefree/rows';
import { type AnyMySqlDatabase, atomic } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { runInWaves } from './barrier.js';
import type { LabContext, Race } from './lab-context.js';
import { tally } from './lab-result.js';

/** The early-job race's strategies. */
export const EARLY_JOB_STRATEGIES = ['naive', 'enqueue', 'onCommit'] as const;
type Strategy = (typeof EARLY_JOB_STRATEGIES)[number];

/** How long the lab waits for the jobs of committed sign-ups to run. */
const JOBS_WAIT_MS = 20_000;

const emailPrefix = (runId: string) => `early-${runId}-`;

/**
 * The job that runs before its data: each client signs up in a transaction and enqueues a task
 * that looks the sign-up up. Before the clients commit, the wave waits until the lab's worker
 * has run every job it can see (a sentinel job, queued behind them), as a busy request would
 * still be working when a fast worker picks its job up. `naive` adds the job through
 * graphile-worker's own connection, so it is visible at once and runs before the row exists;
 * `enqueue` adds it on the transaction (PostgreSQL) or to the outbox (MySQL), so it appears
 * with the commit; `onCommit` dispatches it after the commit. Counted: tasks that ran and did
 * not find their row, and jobs that never ran.
 */
export const earlyJobRace: Race<Strategy> = {
  name: 'early-job',
  title: 'Job runs before commit',
  description:
    'Each sign-up enqueues a task that looks the new row up. naive adds the job on another connection before the commit; enqueue adds it in the transaction; onCommit dispatches it after the commit.',
  strategies: EARLY_JOB_STRATEGIES,
  safe: ['enqueue', 'onCommit'],
  defaultClients: 10,
  unavailable: ({ queue }) =>
    queue ? undefined : 'it needs the job queue (start the app with a queue database)',

  async run(context: LabContext, strategy: Strategy, clients: number) {
    const { db } = context;
    const queue = context.queue;
    if (!queue) throw new Error('early-job needs the job queue');
    const { labSignUps } = bookstoreTables(db);
    const watch = queue.watch(context.runId);
    try {
      return await queue.withWorker(async () => {
        // Jobs that exist whatever the transaction did: naive's, added before the commit.
        let addedEarly = 0;
        const outcomes = await runInWaves(
          clients,
          context.concurrency,
          ({ index, sync }) =>
            atomic(db, async (tx) => {
              const { row } = await getOrCreate(tx, labSignUps, {
                where: { email: `${emailPrefix(context.runId)}${index}@lab.example` },
                defaults: { name: 'Lab sign-up' },
              });
              const payload = { runId: context.runId, id: row.id };
              if (strategy === 'naive') {
                await queue.addJobElsewhere(payload);
                addedEarly += 1;
              } else if (strategy === 'enqueue') {
                await queue.jobs.enqueue(tx, 'lab_find_sign_up', payload);
              } else {
                await queue.jobs.enqueueOnCommit('lab_find_sign_up', payload);
              }
              await sync();
              await context.faults.afterSync?.('early-job', index);
              return row.id;
            }),
          () => queue.drainVisible(),
        );
        await context.faults.beforeCount?.('early-job');
        const { values, failures, errors } = tally(outcomes, () => 'failed');
        // On MySQL the transactional jobs wait in the outbox: move them now rather than at the
        // worker app's next relay pass (both may run; the relay's ledger adds each job once).
        if (context.server.kind !== 'postgres' && strategy === 'enqueue')
          await queue.jobs.relay(db as AnyMySqlDatabase);
        const expected = strategy === 'naive' ? addedEarly : values.length;
        const ran = await watch.until(expected, JOBS_WAIT_MS);
        const missing = [...ran.values()].filter((found) => !found).length;
        const neverRan = Math.max(0, expected - ran.size);
        return {
          anomalies: missing + neverRan,
          counts: {
            'sign-ups': clients,
            committed: values.length,
            'jobs enqueued': expected,
            'jobs that ran': ran.size,
            'ran before their row existed': missing,
            'found their row': ran.size - missing,
            'never ran': neverRan,
            'rolled back': failures.failed ?? 0,
          },
          summary:
            missing + neverRan === 0
              ? `Every job ran after its sign-up committed and found its row.`
              : `${missing} of ${ran.size} jobs ran before their sign-up was committed and found nothing.`,
          errors,
        };
      });
    } finally {
      watch.stop();
    }
  },

  async cleanUp(context: LabContext) {
    await runStatement(
      context.db,
      sql`delete from lab_sign_ups where email like ${`${emailPrefix(context.runId)}%`}`,
    );
  },
};
