import { checkBookstoreInvariants } from '../check-bookstore-invariants.js';
import { CleanupStack } from '../cleanup-stack.js';
import { DATABASE_LABEL } from '../deployment.js';
import { startHttpLoad } from '../http-load.js';
import { progress } from '../progress.js';
import type { Scenario } from '../scenario.js';
import { deployBookstore } from '../start-bookstore.js';
import { startWeb } from '../start-web.js';
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
      const { deployment, store } = await deployBookstore(context.servers, kind, cleanup, {
        name: 'webkill',
        webs: 1,
        workers: 1,
      });
      let web = store.webs[0];
      if (!web) throw new Error('no web process');
      const load = startHttpLoad(
        {
          targets: () => [web?.url ?? ''],
          clients: settings.clients,
          emailPrefix: `webkill-${kind}`,
          bookIds: store.bookIds,
          purchasesPerSignUp: 2,
        },
        cleanup,
      );
      for (let round = 1; round <= settings.webKillRounds; round++) {
        await load.whenSuccesses(load.stats.successes + settings.successesBeforeKill);
        const atKill = load.stats.successes;
        web.app.signal('SIGKILL');
        const exit = await web.app.exited;
        progress(
          `  kill ${round}: web SIGKILLed after ${atKill} successful answers (exit ${exit.signal}); restarting`,
        );
        web = await startWeb({
          name: `web#1.${round}`,
          databaseUrl: deployment.databaseUrl,
          queueUrl: deployment.queueUrl,
          port: web.port,
        });
      }
      const beforeResume = load.stats.successes;
      // A restarted web that never serves again is this row's NO, not an aborted scenario:
      // the bookstore's invariants are still checked below.
      const resumeFailure = await load
        .whenSuccesses(beforeResume + settings.successesAfterRestart)
        .then(
          () => undefined,
          (error: unknown) => (error as Error).message,
        );
      await load.stop();
      progress(
        `  load stopped: ${load.stats.signUpsCreated} sign-ups, ${load.stats.orders} orders, ${load.stats.soldOut} sold out, ${load.stats.unanswered} unanswered; draining the queue`,
      );
      await waitForDrain(deployment);
      context.record({
        fault,
        attempts: settings.webKillRounds,
        invariant: 'the restarted web serves the load again',
        held: resumeFailure === undefined && web.app.running,
        detail: `${load.stats.successes - beforeResume} answers after the last restart${resumeFailure ? `; ${resumeFailure}` : ''}${web.app.running ? '' : '; the restarted web exited'}`,
      });
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
