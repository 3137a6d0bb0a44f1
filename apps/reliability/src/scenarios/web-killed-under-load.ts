import { checkBookstoreInvariants } from '../check-bookstore-invariants.js';
import { CleanupStack } from '../cleanup-stack.js';
import { DATABASE_LABEL } from '../deployment.js';
import { deployWebUnderLoad, killWebUnderLoad } from '../kill-web-under-load.js';
import { progress } from '../progress.js';
import type { Scenario } from '../scenario.js';
import { waitForDrain } from '../wait-for-drain.js';

/**
 * The web process SIGKILLed in the middle of 64-client purchase + sign-up load — each kill
 * sent once N more 2xx answers have been observed — and restarted on the same port; then the
 * load stops, the worker drains the queue, and the bookstore's invariants are checked.
 * A kill aborts every transaction in flight: none may leave half a purchase, a customer
 * without its welcome job, or a job without its customer.
 */
export const webKilledUnderLoad: Scenario = {
  name: 'web-kill',
  kinds: ['postgres', 'mysql'],
  async run(context, kind) {
    const { settings } = context;
    const fault = `web SIGKILLed under ${settings.clients}-client load, restarted (${DATABASE_LABEL[kind]})`;
    const cleanup = new CleanupStack();
    try {
      const { deployment, store, web, load } = await deployWebUnderLoad(context, kind, cleanup, {
        name: 'webkill',
        purchasesPerSignUp: 2,
      });
      const { resumed } = await killWebUnderLoad(web, load, deployment, settings);
      await load.stop();
      progress(
        `  load stopped: ${load.stats.signUpsCreated} sign-ups, ${load.stats.orders} orders, ${load.stats.soldOut} sold out, ${load.stats.unanswered} unanswered; draining the queue`,
      );
      await waitForDrain(deployment);
      context.record({ fault, attempts: settings.webKillRounds, ...resumed });
      context.record({
        fault,
        attempts: settings.webKillRounds,
        ...load.noErrorAnswers('request'),
      });
      for (const outcome of await checkBookstoreInvariants(deployment, store.startStock, load))
        context.record({ fault, attempts: settings.webKillRounds, ...outcome });
    } finally {
      await cleanup.run();
    }
  },
};
