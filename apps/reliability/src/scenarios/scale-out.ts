import { checkBookstoreInvariants } from '../check-bookstore-invariants.js';
import { CleanupStack } from '../cleanup-stack.js';
import { DATABASE_LABEL } from '../deployment.js';
import { startHttpLoad } from '../http-load.js';
import { progress } from '../progress.js';
import type { Scenario } from '../scenario.js';
import { deployBookstore } from '../start-bookstore.js';
import { waitForDrain } from '../wait-for-drain.js';

/**
 * Scale-out, the real deployment: two web processes and two worker processes started at the
 * same moment on one fresh database (they race to migrate it; on MariaDB both workers also
 * run outbox relays against the same outbox and queue), the purchase + sign-up load spread
 * over both webs; then every invariant, and each welcome email sent exactly once although two
 * workers (and two relays) compete for every job.
 */
export const scaleOut: Scenario = {
  name: 'scale-out',
  kinds: ['postgres', 'mysql'],
  async run(context, kind) {
    const { settings } = context;
    const fault = `2 web + 2 worker processes, one database (${DATABASE_LABEL[kind]})`;
    const cleanup = new CleanupStack();
    try {
      const { deployment, store } = await deployBookstore(context.servers, kind, cleanup, {
        name: 'scaleout',
        webs: 2,
        workers: 2,
      });
      progress('  2 webs and 2 workers started together on the empty database');
      const load = startHttpLoad(
        {
          targets: () => store.webs.map((web) => web.url),
          clients: settings.clients,
          emailPrefix: `scaleout-${kind}`,
          bookIds: store.bookIds,
          purchasesPerSignUp: 2,
        },
        cleanup,
      );
      await load.whenSuccesses(settings.scaleOutSuccesses);
      await load.stop();
      progress(
        `  load stopped: ${load.stats.signUpsCreated} sign-ups, ${load.stats.orders} orders, ${load.stats.soldOut} sold out; draining the queue`,
      );
      await waitForDrain(deployment);
      const exited = [...store.webs, ...store.workers]
        .filter((process) => !process.app.running)
        .map((process) => process.app.name);
      const sentBy = store.workers.map(
        (worker) =>
          worker.app.lines.filter((line) => line.text.includes('"welcome email sent"')).length,
      );
      context.record({
        fault,
        attempts: 1,
        invariant:
          'all four processes, started together on the empty database (concurrent migrations), still run',
        held: exited.length === 0,
        detail: `${exited.length ? `exited: ${exited.join(', ')}; ` : ''}emails sent per worker: ${sentBy.join(' + ')}`,
      });
      context.record({ fault, attempts: 1, ...load.noErrorAnswers('request') });
      for (const outcome of await checkBookstoreInvariants(deployment, store.startStock, load))
        context.record({ fault, attempts: 1, ...outcome });
    } finally {
      await cleanup.run();
    }
  },
};
