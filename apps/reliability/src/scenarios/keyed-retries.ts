import { checkBookstoreInvariants } from '../check-bookstore-invariants.js';
import { checkKeyedPurchases, replayEveryKey } from '../check-keyed-purchases.js';
import { CleanupStack } from '../cleanup-stack.js';
import { DATABASE_LABEL } from '../deployment.js';
import { closeCommitGate, installCommitGate } from '../install-commit-gate.js';
import { deployWebUnderLoad, killWebUnderLoad } from '../kill-web-under-load.js';
import { progress } from '../progress.js';
import type { Scenario } from '../scenario.js';
import { waitForDrain } from '../wait-for-drain.js';

/**
 * The web process SIGKILLed while 64 clients buy with `Idempotency-Key`s: one key per intended
 * purchase (and sign-up), each retried with the same key and body until it gets a final answer
 * — across the kill and the restart. A kill cuts requests off at every stage: before the
 * claim, inside the purchase, after COMMIT with the answer unsent. Afterwards each key has
 * bought at most once (every order is exactly one key's stored answer), every key's last retry
 * gets its first answer back, and the bookstore's own invariants hold (stock = start − orders).
 */
export const keyedRetries: Scenario = {
  name: 'keyed-retries',
  kinds: ['postgres', 'mysql'],
  async run(context, kind) {
    const { settings } = context;
    const fault = `web SIGKILLed under ${settings.clients} clients retrying keyed purchases (${DATABASE_LABEL[kind]})`;
    const cleanup = new CleanupStack();
    try {
      const { deployment, store, web, load } = await deployWebUnderLoad(context, kind, cleanup, {
        name: 'keyed',
        purchasesPerSignUp: 4,
        idempotencyKeys: true,
      });
      // On PostgreSQL each kill is aimed: purchases are held inside COMMIT when it lands, and
      // commit after the process is gone — answers lost, purchases made. MariaDB has no
      // deferred triggers to hold a COMMIT with: its kills land wherever the load is.
      let committedUnanswered = 0;
      if (kind === 'postgres') await installCommitGate(deployment.queue);
      const aim = async () => {
        const gate = await closeCommitGate(deployment.queue);
        committedUnanswered += gate.waiting.length;
        return () => gate.openAfterKill();
      };
      const { web: restarted, resumed } = await killWebUnderLoad(
        web,
        load,
        deployment,
        settings,
        kind === 'postgres' ? { aim } : {},
      );
      // Stops new keys; the keys in flight are still retried to a final answer.
      await load.stop();
      progress(
        `  load stopped: ${load.keyed.length} keyed purchases (${load.stats.orders} bought, ${load.stats.soldOut} sold out), ${load.stats.unanswered} requests unanswered, ${load.stats.inProgress} answered "in progress"; replaying every key`,
      );
      const replays = await replayEveryKey(restarted.url, load.keyed);
      await waitForDrain(deployment);
      const attempts = settings.webKillRounds;
      context.record({ fault, attempts, ...resumed });
      context.record({ fault, attempts, ...load.noErrorAnswers('keyed request') });
      const keyed = await checkKeyedPurchases(deployment, load.keyed, {
        // Each gated purchase commits with its answer lost: its client's retry must replay it.
        committedUnanswered: kind === 'postgres' ? committedUnanswered : undefined,
      });
      for (const outcome of [...keyed, replays]) {
        // What the kill caught is worth seeing on green runs too.
        if (outcome.detail) progress(`  ${outcome.detail}`);
        context.record({ fault, attempts, ...outcome });
      }
      for (const outcome of await checkBookstoreInvariants(deployment, store.startStock, load))
        context.record({ fault, attempts, ...outcome });
    } finally {
      await cleanup.run();
    }
  },
};
