import type { Log } from './log.js';

/** graphile-worker functions that 0.17.3 calls without awaiting (see below). */
const FLOATING_GRAPHILE_CALLS = /\bbatch(Complete|Fail)Jobs\b/;

/**
 * Keeps one known graphile-worker 0.17.3 bug from killing the worker, and nothing else.
 *
 * graphile-worker marks a finished job done (or failed) without awaiting the promise
 * (`completeJob(job)` / `failJob(…)` in its worker loop). If the database connection drops at
 * that moment, the promise rejects unhandled and Node ends the process: a blip of the
 * database crashed every worker that was finishing a job. Such a rejection (recognised by
 * graphile-worker's `batchCompleteJobs` / `batchFailJobs` in its stack) is logged instead; the
 * job stays locked by this worker until the orphaned-lock sweeper releases it and it runs
 * again (handlers are idempotent). Any other unhandled rejection still ends the process, as
 * Node would: `onFatal` is called with it.
 */
export function guardUnhandledRejections(log: Log, onFatal: (error: unknown) => void): void {
  process.on('unhandledRejection', (reason) => {
    const stack = reason instanceof Error ? (reason.stack ?? '') : '';
    if (FLOATING_GRAPHILE_CALLS.test(stack)) {
      log(
        'warning',
        'graphile-worker could not record a finished job (database unreachable); it will be released and run again',
        {
          error: reason,
        },
      );
      return;
    }
    onFatal(reason);
  });
}
