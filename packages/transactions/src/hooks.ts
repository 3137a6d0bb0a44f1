import type { Database } from './database.js';
import { InvalidArgumentError } from './errors.js';
import { activeCaptures, type HookEntry, hookScope, newHook } from './scope.js';

/** Options of `onCommit` / `onRollback`. */
export interface HookOptions {
  /**
   * `true`: an error thrown by the hook is logged and the next hook still runs. Default
   * `false`: the first error is thrown from `atomic` (after the data committed) and later
   * hooks do not run, as in Django.
   */
  robust?: boolean;
  /**
   * The database whose transaction the hook belongs to, when several are in play. Default:
   * the innermost `atomic` block in this async context. A transaction `atomic` did not open is
   * refused: racefree could not tell when it commits.
   */
  db?: Database;
}

function checkHook(fn: unknown, operation: string): void {
  if (typeof fn !== 'function')
    throw new InvalidArgumentError(`${operation} needs a function, got ${typeof fn}`);
}

/**
 * Runs `fn` after the outermost transaction commits (Django's `transaction.on_commit`), in
 * registration order, once the `atomic` scope has exited — so work that must only happen for
 * committed data (sending mail, enqueuing to another system) never sees a rollback. Registered
 * in a savepoint that rolls back, the hook is discarded — and so is one registered by code still
 * running after its block rolled back. Outside a transaction it runs now.
 *
 * The returned promise settles at once inside a transaction, and when the hook has run outside.
 *
 * @example
 * await atomic(db, async (tx) => {
 *   const user = await createUser(tx);
 *   await onCommit(() => mailer.welcome(user.email));
 * });
 */
export async function onCommit(fn: () => unknown, options?: HookOptions): Promise<void> {
  checkHook(fn, 'onCommit');
  await registerCommit(newHook(fn, options?.robust ?? false), 'onCommit', options?.db);
}

/** Shared by `onCommit` and `onCommitNotice`: queue `entry` on the open block, or run it now. */
async function registerCommit(
  entry: HookEntry,
  operation: string,
  db: Database | undefined,
): Promise<void> {
  const scope = hookScope(db, operation);
  // Registered by code still running in a block that already rolled back: never runs.
  if (scope === 'rolled back') return;
  if (!scope) {
    await runHooks([entry]);
    return;
  }
  scope.commitHooks.push(entry);
  // Notices are the library's plumbing, not the caller's side effects: never captured.
  if (!entry.notice) for (const capture of activeCaptures()) capture.hooks.push(entry);
}

/**
 * Runs `fn` once the outermost transaction has committed — before any `onCommit` hook, so a
 * slow or failing hook can neither delay nor discard it — for signals that only tell another
 * process to look now, like waking job workers. It also runs when the COMMIT was sent and its
 * outcome is unknown (`CommitOutcomeUnknownError`): a signal must be harmless when nothing
 * committed. Dropped with its savepoint or transaction when that rolls back, like `onCommit`;
 * never collected by `captureOnCommit` (it is the library's plumbing, not the caller's side
 * effect). Its errors are logged, never thrown. Outside a transaction it runs now.
 */
export async function onCommitNotice(
  fn: () => unknown,
  options?: Omit<HookOptions, 'robust'>,
): Promise<void> {
  checkHook(fn, 'onCommitNotice');
  await registerCommit(newHook(fn, true, true), 'onCommitNotice', options?.db);
}

/**
 * Runs `fn` after the transaction — or the savepoint it was registered in — rolls back: undo
 * work done outside the database. Errors are logged, never thrown (a rollback is already an
 * error path). Outside a transaction there is nothing to roll back and the hook is dropped;
 * registered by code still running after its block rolled back, it runs at once.
 */
export async function onRollback(
  fn: () => unknown,
  options?: Omit<HookOptions, 'robust'>,
): Promise<void> {
  checkHook(fn, 'onRollback');
  const scope = hookScope(options?.db, 'onRollback');
  // Registered by code still running after its block rolled back: that rollback has happened.
  if (scope === 'rolled back') await runHooks([newHook(fn, true)]);
  else scope?.rollbackHooks.push(newHook(fn, true));
}

/**
 * Runs hooks in registration order, notices first. A non-robust hook's error stops the run
 * and is thrown; the hooks after it are discarded. Robust hooks' errors are logged.
 */
export async function runHooks(entries: readonly HookEntry[]): Promise<void> {
  const ordered = [...entries]
    .filter((entry) => entry.state === 'pending')
    .sort((a, b) => Number(b.notice) - Number(a.notice) || a.seq - b.seq);
  for (const [index, entry] of ordered.entries()) {
    if (entry.state !== 'pending') continue;
    entry.state = 'ran';
    try {
      await entry.fn();
    } catch (error) {
      if (!entry.robust) {
        for (const later of ordered.slice(index + 1))
          if (later.state === 'pending') later.state = 'discarded';
        throw error;
      }
      console.error(
        entry.notice
          ? '[racefree] an onCommitNotice callback failed; the hooks still run:'
          : '[racefree] a robust hook failed; the remaining hooks still run:',
        error,
      );
    }
  }
}

/** Marks hooks that will never run (their savepoint or transaction rolled back). */
export function discardHooks(entries: readonly HookEntry[]): void {
  for (const entry of entries) if (entry.state === 'pending') entry.state = 'discarded';
}
