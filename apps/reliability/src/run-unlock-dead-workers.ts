import { type AppExit, AppProcess } from './app-process.js';
import type { Deployment } from './deployment.js';

/** What the operator command printed and how it ended. */
export interface UnlockRun {
  exit: AppExit;
  lines: string[];
}

/**
 * Runs the operator command exactly as documented — `node apps/worker/dist/unlock.js` (what
 * `pnpm --filter worker unlock-dead-workers` runs) with the worker's environment.
 */
export async function runUnlockDeadWorkers(
  deployment: Deployment,
  args: readonly string[],
): Promise<UnlockRun> {
  const app = AppProcess.start({
    name: 'unlock-dead-workers',
    script: 'apps/worker/dist/unlock.js',
    args,
    env: { DATABASE_URL: deployment.databaseUrl, QUEUE_DATABASE_URL: deployment.queueUrl },
  });
  const exit = await app.exited;
  return { exit, lines: app.lines.map((line) => line.text) };
}
