import { runHooks } from '../hooks.js';
import { type Capture, runWithCapture } from '../scope.js';

/** Options of `captureOnCommit`. */
export interface CaptureOptions {
  /** Run the captured hooks, in order, once `fn` has finished (they are then not run again). Default `false`. */
  execute?: boolean;
}

/**
 * Runs `fn` and returns the `onCommit` hooks registered during it that are still waiting for a
 * commit — typically inside `withRollback`, whose transaction never commits (Django's
 * `captureOnCommitCallbacks`). Hooks of savepoints that rolled back are not returned; hooks
 * that already ran (their transaction committed, or none was open) are not returned either.
 *
 * @example
 * const hooks = await captureOnCommit(() => withRollback(db, () => signUp(db, 'a@b.c')), { execute: true });
 * expect(hooks).toHaveLength(1);
 */
export async function captureOnCommit(
  fn: () => unknown,
  options: CaptureOptions = {},
): Promise<Array<() => unknown>> {
  const capture: Capture = { hooks: [] };
  await runWithCapture(capture, fn);
  const waiting = capture.hooks
    .filter((hook) => hook.state === 'pending')
    .sort((a, b) => a.seq - b.seq);
  const callables = waiting.map((hook) => hook.fn);
  if (options.execute) await runHooks(waiting);
  return callables;
}
