import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `check()` holds, for work that runs in the background (a worker, an after-commit
 * relay pass), and fails the test after `timeoutMs`: an outcome awaited, never a delay that
 * stands in for one.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}
