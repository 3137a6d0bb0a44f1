import { checkBookstoreInvariants } from '../check-bookstore-invariants.js';
import { CleanupStack } from '../cleanup-stack.js';
import { holdPostgresTransaction } from '../hold-postgres-transaction.js';
import { startHttpLoad } from '../http-load.js';
import {
  installRelayGates,
  RELAY_GATE_CLASS,
  RELAY_GATE_KEY,
  type RelayGate,
  waitersAt,
} from '../install-relay-gates.js';
import { progress } from '../progress.js';
import { runUnlockDeadWorkers } from '../run-unlock-dead-workers.js';
import type { Scenario } from '../scenario.js';
import { deployWebOnly } from '../start-bookstore.js';
import { startWorkerProcess, type WorkerProcess } from '../start-worker-process.js';
import { until } from '../until.js';
import { waitForDrain } from '../wait-for-drain.js';

/**
 * The outbox relay (the worker in MySQL mode) SIGKILLed again and again during a burst of
 * MariaDB sign-ups, each time at a moment it is seen to have reached: alternately while adding
 * a batch's jobs (before its PostgreSQL commit) and between its two commits (jobs committed in
 * the queue, outbox rows not yet deleted). After each kill the worker is restarted and the
 * dead worker's job locks are freed with `unlock-dead-workers`. Afterwards: every committed
 * customer had exactly one welcome job added — none lost, none doubled — and one email.
 */
export const relayKilled: Scenario = {
  name: 'relay-kill',
  kinds: ['mysql'],
  async run(context, kind) {
    const { settings } = context;
    const fault = 'outbox relay SIGKILLed during a MariaDB sign-up burst';
    const cleanup = new CleanupStack();
    try {
      // One web, no worker yet: each fault starts its workers itself.
      const { deployment, store, web } = await deployWebOnly(
        context.servers,
        kind,
        cleanup,
        'relaykill',
      );
      const { startStock } = store;
      const workerOptions = { databaseUrl: deployment.databaseUrl, queueUrl: deployment.queueUrl };
      let worker: WorkerProcess = await startWorkerProcess({ name: 'worker#1', ...workerOptions });
      // The relay's first pass creates its ledger; the gates go on it.
      await until(
        'the relay ledger',
        async () =>
          (await deployment.queue`select to_regclass('racefree_jobs.outbox_ledger') as t`)[0]?.t !=
          null,
      );
      await installRelayGates(deployment.queue);

      const load = startHttpLoad(
        {
          targets: () => [web.url],
          clients: Math.min(settings.clients, 32),
          emailPrefix: 'relaykill',
          bookIds: [],
          purchasesPerSignUp: 0,
        },
        cleanup,
      );

      let strandedBatches = 0;
      let betweenRounds = 0;
      for (let round = 1; round <= settings.relayKillRounds; round++) {
        await load.whenSuccesses(load.stats.successes + 20);
        const gate: RelayGate = round % 2 === 1 ? 'between-commits' : 'before-queue-commit';
        const lock = await holdPostgresTransaction(deployment.queue, [
          `select pg_advisory_xact_lock(${RELAY_GATE_CLASS}, ${RELAY_GATE_KEY[gate]})`,
        ]);
        let waiters: number[];
        try {
          waiters = await until(`the relay to reach the ${gate} gate`, async () => {
            const pids = await waitersAt(deployment.queue, gate);
            return pids.length > 0 && pids;
          });
          worker.app.signal('SIGKILL');
          await worker.app.exited;
        } finally {
          await lock.release();
        }
        // The dead relay's PostgreSQL backend finishes what it was doing (COMMIT, or the
        // insert it then cannot report): wait until it is gone before looking.
        await until('the dead relay’s backend to end', async () => {
          const [row] = await deployment.queue<{ n: string }[]>`
            select count(*)::text as n from pg_stat_activity where pid = any(${waiters}::int[])`;
          return Number(row?.n) === 0;
        });
        let stranded = 0;
        if (gate === 'between-commits') {
          betweenRounds += 1;
          // Ledger entries whose outbox rows still exist: jobs committed, rows not deleted.
          const ledger = await deployment.queue<{ id: string }[]>`
            select outbox_id::text as id from racefree_jobs.outbox_ledger`;
          const ids = ledger.map((row) => row.id).filter((id) => /^\d+$/.test(id));
          if (ids.length > 0) {
            const rows = await deployment.data.rows<{ n: unknown }>(
              `select count(*) as n from racefree_outbox where id in (${ids.join(',')})`,
            );
            stranded = Number(rows[0]?.n);
          }
          if (stranded > 0) strandedBatches += 1;
        }
        progress(
          `  kill ${round}: relay SIGKILLed at the ${gate} gate${gate === 'between-commits' ? ` (${stranded} outbox rows relayed but not deleted)` : ''}; restarting`,
        );
        worker = await startWorkerProcess({ name: `worker#${round + 1}`, ...workerOptions });
        // The killed process may also have died with welcome-email jobs in flight.
        await runUnlockDeadWorkers(deployment, ['--min-age', '0s']);
      }
      await load.whenSuccesses(load.stats.successes + 20);
      await load.stop();
      progress(`  burst stopped: ${load.stats.signUpsCreated} sign-ups; draining`);
      await waitForDrain(deployment);

      context.record({
        fault,
        attempts: betweenRounds,
        invariant: 'kills between the relay’s two commits left relayed rows behind',
        held: strandedBatches === betweenRounds,
        detail: `${strandedBatches} of ${betweenRounds} kills left a relayed batch in the outbox`,
      });
      context.record({
        fault,
        attempts: settings.relayKillRounds,
        ...load.noErrorAnswers('sign-up'),
      });
      for (const outcome of await checkBookstoreInvariants(deployment, startStock, load))
        if (!outcome.invariant.startsWith('stock'))
          context.record({ fault, attempts: settings.relayKillRounds, ...outcome });
    } finally {
      await cleanup.run();
    }
  },
};
