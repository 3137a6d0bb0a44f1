import { checkBookstoreInvariants } from '../check-bookstore-invariants.js';
import { CleanupStack } from '../cleanup-stack.js';
import { countBlockedHandlers } from '../count-blocked-handlers.js';
import { DATABASE_LABEL, type Deployment } from '../deployment.js';
import type { HeldLock } from '../held-lock.js';
import { holdMysqlTableLock } from '../hold-mysql-table-lock.js';
import { holdPostgresTransaction } from '../hold-postgres-transaction.js';
import { jobsGone, lockedJobs } from '../locked-jobs.js';
import { progress } from '../progress.js';
import { runUnlockDeadWorkers } from '../run-unlock-dead-workers.js';
import type { Scenario } from '../scenario.js';
import { signUpCustomers } from '../sign-up-customers.js';
import { deployWebOnly } from '../start-bookstore.js';
import { startWorkerProcess, type WorkerProcess } from '../start-worker-process.js';
import { until } from '../until.js';
import { pendingWork, waitForDrain } from '../wait-for-drain.js';

/** Freezes the welcome-email handlers: they wait on `sent_emails` until released. */
function freezeHandlers(deployment: Deployment): Promise<HeldLock> {
  if (deployment.mysql) return holdMysqlTableLock(deployment.mysql.pool, 'sent_emails');
  // Blocks INSERTs (ROW EXCLUSIVE), lets reads through: the handler gets as far as its insert.
  return holdPostgresTransaction(deployment.queue, [
    'lock table sent_emails in share row exclusive mode',
  ]);
}

/** Resolves once `worker` holds `count` jobs and `count` handlers wait on the frozen table. */
async function whenJobsInFlight(deployment: Deployment, worker: WorkerProcess, count: number) {
  return until(`${worker.app.name} to have ${count} jobs in flight`, async () => {
    const jobs = await lockedJobs(deployment.queue, worker.workerId);
    return jobs.length >= count && (await countBlockedHandlers(deployment)) >= count && jobs;
  });
}

/**
 * The worker stopped while jobs run. Jobs are frozen mid-handler (this program holds a lock
 * their insert waits for), so "while jobs run" is an observed state, not a hope:
 *
 * 1. SIGTERM with `concurrency` jobs in flight: the worker says it is stopping, keeps running
 *    until the lock is released, finishes exactly those jobs (each customer gets the email),
 *    exits 0, and leaves every other job unlocked for the next worker.
 * 2. SIGKILL with jobs in flight: graphile-worker leaves them locked (it frees stale locks only
 *    after 4 hours). A new worker does not take them. `unlock-dead-workers` — run while the new
 *    worker holds jobs of its own — frees the dead worker's jobs and only those; the new worker
 *    then runs them, and every customer still gets exactly one email.
 */
export const workerStoppedMidJob: Scenario = {
  name: 'worker-stop',
  kinds: ['postgres', 'mysql'],
  async run(context, kind) {
    const { settings } = context;
    const label = DATABASE_LABEL[kind];
    const concurrency = settings.workerConcurrency;
    const cleanup = new CleanupStack();
    try {
      // One web, no worker yet: each fault starts its workers itself.
      const { deployment, store, web } = await deployWebOnly(
        context.servers,
        kind,
        cleanup,
        'workerstop',
      );
      const { startStock } = store;
      const workerOptions = {
        databaseUrl: deployment.databaseUrl,
        queueUrl: deployment.queueUrl,
        concurrency,
      };

      // 1. SIGTERM while jobs run.
      const firstCustomers = await signUpCustomers(web.url, `term-${kind}`, settings.workerJobs);
      let lock = await freezeHandlers(deployment);
      cleanup.defer(() => lock.release().catch(() => undefined));
      const termed = await startWorkerProcess({ name: 'worker#A', ...workerOptions });
      const inFlight = await whenJobsInFlight(deployment, termed, concurrency);
      const stoppingFrom = termed.app.lines.length;
      termed.app.signal('SIGTERM');
      await termed.app.waitForLine(/stopping: no new jobs/, { from: stoppingFrom });
      const waitedForJobs = termed.app.running;
      const stillHeld = await lockedJobs(deployment.queue, termed.workerId);
      progress(
        `  SIGTERM with ${inFlight.length} jobs in flight: worker says it is stopping, still running = ${waitedForJobs}`,
      );
      await lock.release();
      const termExit = await termed.app.exited;
      const finished = await jobsGone(
        deployment.queue,
        inFlight.map((job) => job.id),
      );
      const sentFor = new Set(
        (
          await deployment.data.rows<{ customer_id: unknown }>(
            'select customer_id from sent_emails',
          )
        ).map((row) => Number(row.customer_id)),
      );
      const leftLocked = await lockedJobs(deployment.queue, termed.workerId);
      const left = await pendingWork(deployment);
      const termFault = `worker SIGTERMed with ${concurrency} jobs in flight (${label})`;
      context.record({
        fault: termFault,
        attempts: 1,
        invariant: 'the worker waits for its in-flight jobs, which finish; exit 0',
        held:
          waitedForJobs &&
          termExit.code === 0 &&
          finished &&
          inFlight.every((job) => sentFor.has(job.customerId)) &&
          stillHeld.length === inFlight.length,
        detail: `exit ${termExit.signal ?? termExit.code}; in flight ${inFlight.length}, finished ${finished}, emails for them ${inFlight.filter((j) => sentFor.has(j.customerId)).length}`,
      });
      context.record({
        fault: termFault,
        attempts: 1,
        invariant: 'nothing lost: the other jobs wait unlocked for the next worker',
        held:
          leftLocked.length === 0 &&
          left.outbox + left.jobs === settings.workerJobs - inFlight.length,
        detail: `${left.jobs} job(s) + ${left.outbox} outbox row(s) waiting, ${leftLocked.length} left locked`,
      });

      // 2. SIGKILL while jobs run; then the operator's unlock.
      const secondCustomers = await signUpCustomers(web.url, `kill-${kind}`, settings.workerJobs);
      lock = await freezeHandlers(deployment);
      const killed = await startWorkerProcess({ name: 'worker#B', ...workerOptions });
      const orphaned = await whenJobsInFlight(deployment, killed, concurrency);
      killed.app.signal('SIGKILL');
      await killed.app.exited;
      const stayLocked = (await lockedJobs(deployment.queue, killed.workerId)).length;
      progress(
        `  SIGKILL with ${orphaned.length} jobs in flight: ${stayLocked} stay locked by the dead worker`,
      );
      const successor = await startWorkerProcess({ name: 'worker#C', ...workerOptions });
      const successorJobs = await until('worker#C to take jobs', async () => {
        const jobs = await lockedJobs(deployment.queue, successor.workerId);
        return jobs.length >= concurrency && jobs;
      });
      const killFault = `worker SIGKILLed with ${concurrency} jobs in flight, then unlock-dead-workers (${label})`;
      context.record({
        fault: killFault,
        attempts: 1,
        invariant: "the dead worker's jobs stay locked; a new worker leaves them alone",
        held:
          stayLocked === orphaned.length &&
          !successorJobs.some((job) => orphaned.some((o) => o.id === job.id)),
        detail: `${stayLocked} of ${orphaned.length} still locked by ${killed.workerId}`,
      });

      const unlock = await runUnlockDeadWorkers(deployment, ['--min-age', '0s']);
      const freed = await deployment.queue<{ id: string; locked_by: string | null }[]>`
        select id::text, locked_by from graphile_worker._private_jobs
         where id = any(${orphaned.map((job) => job.id)}::bigint[])`;
      const successorStill = await lockedJobs(deployment.queue, successor.workerId);
      const said = (action: string, workerId: string) =>
        unlock.lines.some((line) => line.startsWith(`${action} ${workerId}:`));
      progress(`  unlock-dead-workers: ${unlock.lines.join(' / ')}`);
      context.record({
        fault: killFault,
        attempts: 1,
        invariant: 'unlock-dead-workers frees the dead worker’s jobs, keeps the live one’s',
        held:
          unlock.exit.code === 0 &&
          said('unlocked', killed.workerId) &&
          said('kept', successor.workerId) &&
          freed.length === orphaned.length &&
          freed.every((job) => job.locked_by !== killed.workerId) &&
          successorJobs.every((job) => successorStill.some((s) => s.id === job.id)),
        detail: unlock.lines.join(' / '),
      });

      await lock.release();
      await waitForDrain(deployment);
      const acknowledged = {
        customers: new Map([...firstCustomers, ...secondCustomers]),
        orders: new Set<number>(),
      };
      for (const outcome of await checkBookstoreInvariants(deployment, startStock, acknowledged))
        if (!outcome.invariant.startsWith('stock'))
          context.record({ fault: killFault, attempts: 1, ...outcome });
    } finally {
      await cleanup.run();
    }
  },
};
