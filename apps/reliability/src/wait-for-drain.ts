import type { Deployment } from './deployment.js';
import { until } from './until.js';

/** Outbox rows not yet relayed (MariaDB), then jobs not yet done: read in that order. */
export async function pendingWork(
  deployment: Deployment,
): Promise<{ outbox: number; jobs: number }> {
  // The relay commits a batch's jobs before it deletes the batch's outbox rows, so reading the
  // outbox first and the queue second never misses work moving from one to the other.
  const outbox =
    deployment.kind === 'mysql'
      ? Number(
          (
            await deployment.data.rows<{ n: unknown }>('select count(*) as n from racefree_outbox')
          )[0]?.n,
        )
      : 0;
  const [jobs] = await deployment.queue<
    { n: string }[]
  >`select count(*)::text as n from graphile_worker._private_jobs`;
  return { outbox, jobs: Number(jobs?.n) };
}

/**
 * Waits until the workers have done everything: no outbox row, no job left. Gives up quietly
 * after `timeoutMs`: the invariants checked next then say what is left.
 */
export async function waitForDrain(deployment: Deployment, timeoutMs = 60_000): Promise<void> {
  try {
    await until(
      'the queue to drain',
      async () => {
        const { outbox, jobs } = await pendingWork(deployment);
        return outbox === 0 && jobs === 0;
      },
      { timeoutMs, intervalMs: 100 },
    );
  } catch {
    // Not drained: reported by the queue invariant.
  }
}
