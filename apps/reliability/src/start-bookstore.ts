import { readStock } from './check-bookstore-invariants.js';
import type { CleanupStack } from './cleanup-stack.js';
import {
  createDeployment,
  type DatabaseKind,
  type Deployment,
  type Servers,
} from './deployment.js';
import { freePort } from '@racefree/testkit/free-port';
import { installJobAudit } from './install-job-audit.js';
import { prepareBooks } from './prepare-books.js';
import { startWeb, type WebProcess } from './start-web.js';
import { startWorkerProcess, type WorkerProcess } from './start-worker-process.js';
import { stopRunningApps } from './stop-running-apps.js';

/** A running bookstore: web and worker processes on one deployment, ready for load. */
export interface Bookstore {
  webs: WebProcess[];
  workers: WorkerProcess[];
  bookIds: number[];
  /** Each book's stock before the load. */
  startStock: Map<number, number>;
}

/** Options of `startBookstore`. */
export interface StartBookstoreOptions {
  label: string;
  webs: number;
  workers: number;
  /** WORKER_CONCURRENCY. Default 2. */
  concurrency?: number;
}

/**
 * Starts `webs` web and `workers` worker processes at once on a fresh deployment — they race
 * to migrate the same empty databases, which the advisory-lock migration must serialize —
 * then installs the job audit and adds the books the load buys.
 */
export async function startBookstore(
  deployment: Deployment,
  options: StartBookstoreOptions,
): Promise<Bookstore> {
  const ports = await Promise.all(Array.from({ length: options.webs }, () => freePort()));
  const [webs, workers] = await Promise.all([
    Promise.all(
      ports.map((port, i) =>
        startWeb({
          name: `web#${i + 1}`,
          databaseUrl: deployment.databaseUrl,
          queueUrl: deployment.queueUrl,
          port,
        }),
      ),
    ),
    Promise.all(
      Array.from({ length: options.workers }, (_, i) =>
        startWorkerProcess({
          name: `worker#${i + 1}`,
          databaseUrl: deployment.databaseUrl,
          queueUrl: deployment.queueUrl,
          concurrency: options.concurrency,
        }),
      ),
    ),
  ]);
  await installJobAudit(deployment.queue);
  const first = webs[0];
  const bookIds = first ? await prepareBooks(first.url, options.label) : [];
  return { webs, workers, bookIds, startStock: await readStock(deployment) };
}

/**
 * A fresh deployment named `${name}` with the bookstore started on it (see `startBookstore`,
 * whose label is `${name}-${kind}`). The cleanup stops every app before the databases are
 * dropped, so no process is left writing to a database that is going away.
 */
export async function deployBookstore(
  servers: Servers,
  kind: DatabaseKind,
  cleanup: CleanupStack,
  options: Omit<StartBookstoreOptions, 'label'> & { name: string },
): Promise<{ deployment: Deployment; store: Bookstore }> {
  const { name, ...rest } = options;
  const deployment = await createDeployment(servers, kind, name);
  cleanup.defer(() => deployment.drop());
  cleanup.defer(() => stopRunningApps());
  const store = await startBookstore(deployment, { ...rest, label: `${name}-${kind}` });
  return { deployment, store };
}

/**
 * `deployBookstore` with one web process and no worker, for scenarios that start (and kill)
 * their workers themselves.
 */
export async function deployWebOnly(
  servers: Servers,
  kind: DatabaseKind,
  cleanup: CleanupStack,
  name: string,
): Promise<{ deployment: Deployment; store: Bookstore; web: Bookstore['webs'][number] }> {
  const { deployment, store } = await deployBookstore(servers, kind, cleanup, {
    name,
    webs: 1,
    workers: 0,
  });
  const [web] = store.webs;
  if (!web) throw new Error('no web process');
  return { deployment, store, web };
}
