import type { InvariantOutcome } from './check-bookstore-invariants.js';
import type { CleanupStack } from './cleanup-stack.js';
import type { DatabaseKind, Deployment } from './deployment.js';
import { type HttpLoad, type HttpLoadOptions, startHttpLoad } from './http-load.js';
import { progress } from './progress.js';
import type { ReliabilitySettings } from './reliability-settings.js';
import type { ScenarioContext } from './scenario.js';
import { deployBookstore } from './start-bookstore.js';
import { startWeb, type WebProcess } from './start-web.js';

/**
 * A fresh deployment named `name` with one web and one worker, and `settings.clients` clients
 * of purchase + sign-up load on the web (sign-up emails `${name}-${kind}-…`): the start of
 * every scenario that kills the web under load.
 */
export async function deployWebUnderLoad(
  context: ScenarioContext,
  kind: DatabaseKind,
  cleanup: CleanupStack,
  options: { name: string } & Pick<HttpLoadOptions, 'purchasesPerSignUp' | 'idempotencyKeys'>,
) {
  const { name, ...loadOptions } = options;
  const { deployment, store } = await deployBookstore(context.servers, kind, cleanup, {
    name,
    webs: 1,
    workers: 1,
  });
  const [web] = store.webs;
  if (!web) throw new Error('no web process');
  const load = startHttpLoad(
    {
      targets: () => [web.url],
      clients: context.settings.clients,
      emailPrefix: `${name}-${kind}`,
      bookIds: store.bookIds,
      ...loadOptions,
    },
    cleanup,
  );
  return { deployment, store, web, load };
}

/**
 * SIGKILLs `web` `settings.webKillRounds` times under `load` — each kill once
 * `settings.successesBeforeKill` more 2xx answers have been observed, so it lands mid-load by
 * measurement — and restarts it on the same port (the load's target URL stays valid). Then waits
 * for `settings.successesAfterRestart` more answers. Resolves with the web now running and
 * whether it served again; a restarted web that never serves is that outcome's NO, not a throw,
 * so the scenario still checks the databases.
 */
export async function killWebUnderLoad(
  web: WebProcess,
  load: HttpLoad,
  deployment: Deployment,
  settings: ReliabilitySettings,
  options: {
    /**
     * Run before each kill, to freeze requests at a chosen point; resolves with what to run
     * once the web is dead (before the restart). Default: kill wherever the load is.
     */
    aim?: () => Promise<() => Promise<void>>;
  } = {},
): Promise<{ web: WebProcess; resumed: InvariantOutcome }> {
  let running = web;
  for (let round = 1; round <= settings.webKillRounds; round++) {
    await load.whenSuccesses(load.stats.successes + settings.successesBeforeKill);
    const afterKill = await options.aim?.();
    const atKill = load.stats.successes;
    running.app.signal('SIGKILL');
    const exit = await running.app.exited;
    await afterKill?.();
    progress(
      `  kill ${round}: web SIGKILLed after ${atKill} successful answers (exit ${exit.signal}); restarting`,
    );
    running = await startWeb({
      name: `web#1.${round}`,
      databaseUrl: deployment.databaseUrl,
      queueUrl: deployment.queueUrl,
      port: running.port,
    });
  }
  const beforeResume = load.stats.successes;
  const failure = await load.whenSuccesses(beforeResume + settings.successesAfterRestart).then(
    () => undefined,
    (error: unknown) => (error as Error).message,
  );
  return {
    web: running,
    resumed: {
      invariant: 'the restarted web serves the load again',
      held: failure === undefined && running.app.running,
      detail: `${load.stats.successes - beforeResume} answers after the last restart${failure ? `; ${failure}` : ''}${running.app.running ? '' : '; the restarted web exited'}`,
    },
  };
}
