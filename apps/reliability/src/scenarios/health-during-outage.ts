import { checkBookstoreInvariants } from '../check-bookstore-invariants.js';
import { CleanupStack } from '../cleanup-stack.js';
import { createDeployment, DATABASE_LABEL } from '../deployment.js';
import { startHttpLoad } from '../http-load.js';
import { progress } from '../progress.js';
import { requestJson } from '../request-json.js';
import type { Scenario } from '../scenario.js';
import { startBookstore } from '../start-bookstore.js';
import { stopRunningApps } from '../stop-running-apps.js';
import { TcpProxy } from '../tcp-proxy.js';
import { until } from '../until.js';
import { waitForDrain } from '../wait-for-drain.js';

/** `url` pointed at 127.0.0.1:`port` instead of its own host and port. */
function through(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

/** What a response body must never carry: a stack frame or SQL. */
const LEAK =
  /\bat .+\.[cm]?js|\bselect\b|\binsert\b|\bupdate\b.+\bset\b|DrizzleQueryError|Failed query/i;

/**
 * The database goes away under a running web app and worker, in the middle of load, and
 * comes back. Both reach the bookstore's database through a TCP proxy this program runs;
 * stopping the proxy refuses new connections and cuts the open ones — transactions in flight
 * included. While it is down `/healthz` must answer 503 (quickly: load balancers time out),
 * neither process may exit, and error answers carry no stack trace or SQL. Once the proxy is
 * back — no restart — `/healthz` answers 200, the load succeeds again, the worker drains the
 * queue, and the bookstore's invariants hold (a cut transaction left nothing half-done).
 */
export const healthDuringOutage: Scenario = {
  name: 'health',
  kinds: ['postgres', 'mysql'],
  async run(context, kind) {
    const { settings } = context;
    const fault = `database cut off under load, then back (${DATABASE_LABEL[kind]})`;
    const cleanup = new CleanupStack();
    try {
      const deployment = await createDeployment(context.servers, kind, 'health');
      cleanup.defer(() => deployment.drop());
      const direct = new URL(deployment.databaseUrl);
      const proxy = await TcpProxy.start({
        host: direct.hostname,
        port: Number(direct.port || (kind === 'mysql' ? 3306 : 5432)),
      });
      cleanup.defer(() => proxy.stop());
      cleanup.defer(() => stopRunningApps());
      const proxied = through(deployment.databaseUrl, proxy.port);
      const store = await startBookstore(
        {
          ...deployment,
          databaseUrl: proxied,
          queueUrl: kind === 'postgres' ? proxied : deployment.queueUrl,
        },
        { label: `health-${kind}`, webs: 1, workers: 1 },
      );
      const web = store.webs[0];
      const worker = store.workers[0];
      if (!web || !worker) throw new Error('the bookstore did not start');
      const health = async () => {
        const answer = await requestJson(`${web.url}/healthz`, { timeoutMs: 15_000 });
        return answer.ok ? answer.status : 0;
      };
      const before = await health();
      const load = startHttpLoad(
        {
          targets: () => [web.url],
          clients: 16,
          emailPrefix: `health-${kind}`,
          bookIds: store.bookIds,
          purchasesPerSignUp: 2,
        },
        cleanup,
      );

      const downProblems: string[] = [];
      const upProblems: string[] = [];
      const leaks: string[] = [];
      const downSeconds: string[] = [];
      for (let round = 1; round <= settings.outageRounds; round++) {
        await load.whenSuccesses(load.stats.successes + 50);
        const failedBefore = load.stats.serverErrors + load.stats.unanswered;
        await proxy.stop();
        const cutAt = Date.now();
        try {
          await until('/healthz to answer 503', async () => (await health()) === 503, {
            timeoutMs: 20_000,
            intervalMs: 100,
          });
          downSeconds.push(((Date.now() - cutAt) / 1000).toFixed(1));
          // The outage lasts until the load has felt it: requests failing, not just health.
          await until(
            'requests to fail during the outage',
            () => load.stats.serverErrors + load.stats.unanswered >= failedBefore + 20,
            { timeoutMs: 20_000 },
          );
        } catch (error) {
          downProblems.push((error as Error).message);
        }
        const during = await requestJson(`${web.url}/api/books`, { timeoutMs: 20_000 });
        if (!during.ok) downProblems.push(`GET /api/books got no answer: ${during.error}`);
        else if (LEAK.test(during.text))
          leaks.push(`GET /api/books → ${during.status} ${during.text.slice(0, 120)}`);
        if (!web.app.running) downProblems.push('the web process exited');
        if (!worker.app.running) downProblems.push('the worker exited');
        await proxy.resume();
        try {
          await until('/healthz to answer 200 again', async () => (await health()) === 200, {
            timeoutMs: 30_000,
            intervalMs: 100,
          });
          await load.whenSuccesses(load.stats.successes + 50, 30_000);
        } catch (error) {
          upProblems.push((error as Error).message);
        }
        progress(
          `  outage ${round}: /healthz 503 after ${downSeconds.at(-1) ?? '—'} s, ${load.stats.serverErrors + load.stats.unanswered - failedBefore} requests failed; back: ${upProblems.length === 0 ? 'yes' : 'no'}`,
        );
      }
      await load.stop();
      await waitForDrain(deployment);
      for (const sample of load.stats.samples) if (LEAK.test(sample)) leaks.push(sample);

      context.record({
        fault,
        attempts: settings.outageRounds,
        invariant: '/healthz answers 503 while the database is unreachable; no process exits',
        held: before === 200 && downProblems.length === 0,
        detail: downProblems.length
          ? `before: ${before}; ${downProblems.join('; ')}`
          : `503 after ${downSeconds.join(', ')} s`,
      });
      context.record({
        fault,
        attempts: load.stats.serverErrors,
        invariant: 'error answers during the outage carry no stack trace or SQL',
        held: leaks.length === 0,
        detail: leaks.slice(0, 3).join(' | ') || undefined,
      });
      context.record({
        fault,
        attempts: settings.outageRounds,
        invariant: 'back without a restart: /healthz 200, the load succeeds again',
        held: upProblems.length === 0 && web.app.running && worker.app.running,
        detail: upProblems.join('; ') || undefined,
      });
      for (const outcome of await checkBookstoreInvariants(deployment, store.startStock, load))
        context.record({ fault, attempts: settings.outageRounds, ...outcome });
    } finally {
      await cleanup.run();
    }
  },
};
