import { AppProcess } from './app-process.js';

/** A running worker process and its graphile-worker id (`locked_by` of its jobs). */
export interface WorkerProcess {
  app: AppProcess;
  workerId: string;
}

/** Options of `startWorkerProcess`. */
export interface StartWorkerOptions {
  name: string;
  databaseUrl: string;
  queueUrl: string;
  /** WORKER_CONCURRENCY. Default 2. */
  concurrency?: number;
}

/**
 * Starts the real worker (`node apps/worker/dist/main.js`) and resolves once it logs "worker
 * started" (graphile-worker runs, its presence is announced, the relay runs on MySQL).
 */
export async function startWorkerProcess(options: StartWorkerOptions): Promise<WorkerProcess> {
  const app = AppProcess.start({
    name: options.name,
    script: 'apps/worker/dist/main.js',
    env: {
      DATABASE_URL: options.databaseUrl,
      QUEUE_DATABASE_URL: options.queueUrl,
      WORKER_CONCURRENCY: String(options.concurrency ?? 2),
      WORKER_POLL_INTERVAL_MS: '500',
      RELAY_POLL_INTERVAL_MS: '100',
      WORKER_CONNECT_ATTEMPTS: '4',
      // Locks this worker lost track of (a database outage) are released after 3 s, not 2 min:
      // the health scenario waits for its queue to drain.
      WORKER_ORPHANED_LOCK_AGE_MS: '3000',
      // `WORKER_LOG_LEVEL=debug pnpm reliability --verbose` shows graphile-worker's debug lines.
      ...(process.env.WORKER_LOG_LEVEL ? { WORKER_LOG_LEVEL: process.env.WORKER_LOG_LEVEL } : {}),
    },
  });
  const line = await app.waitForLine(/"msg":"worker started"/, { timeoutMs: 60_000 });
  const workerId = (JSON.parse(line) as { workerId?: string }).workerId;
  if (!workerId) throw new Error(`${options.name}: "worker started" names no workerId: ${line}`);
  return { app, workerId };
}
