import { AsyncLocalStorage } from 'node:async_hooks';
import { type Database, familyOf, isDrizzleTransaction } from './database.js';
import type { IsolationLevel } from './dialects/dialect.js';
import { RacefreeError, UnmanagedTransactionError } from './errors.js';
import { Mutex } from './mutex.js';

/** A hook registered with `onCommit` or `onRollback`. */
export interface HookEntry {
  /** Global registration order: hooks run in the order they were registered. */
  seq: number;
  fn: () => unknown;
  robust: boolean;
  /** Registered with `onCommitNotice`: runs before the hooks, never captured, never discarded by them. */
  notice: boolean;
  state: 'pending' | 'ran' | 'discarded';
}

let nextSeq = 0;
export function newHook(fn: () => unknown, robust: boolean, notice = false): HookEntry {
  nextSeq += 1;
  return { seq: nextSeq, fn, robust, notice, state: 'pending' };
}

/**
 * One open transaction or savepoint opened by `atomic`. Hooks registered in a savepoint move
 * to its parent when it is released, and are dropped (commit hooks) or run (rollback hooks)
 * when it rolls back.
 */
export class Scope {
  readonly root: Database;
  readonly parent: Scope | undefined;
  readonly isolationLevel: IsolationLevel;
  tx!: Database;
  state: 'open' | 'committed' | 'rolled back' = 'open';
  commitHooks: HookEntry[] = [];
  rollbackHooks: HookEntry[] = [];
  /**
   * Set on the outermost scope when a savepoint statement failed (a nested block could not be
   * rolled back to its savepoint): the server may have dropped the whole transaction, so it
   * must not commit. Holds the error that broke it.
   */
  broken: { error: unknown } | undefined;
  /** Outermost scope only: settles when the driver's transaction promise has settled. */
  ended: Promise<void> = new Promise<void>(() => {});
  /** Outermost scope only: the nested blocks open right now, in the order they opened. */
  readonly openDescendants = new Set<Scope>();
  /** Outermost scope only: see `Driver.abandonLostTransactions`. */
  abandonLostTransactions = false;
  /** Child blocks take turns on the one connection. */
  readonly children = new Mutex();

  constructor(root: Database, parent: Scope | undefined, isolationLevel: IsolationLevel) {
    this.root = root;
    this.parent = parent;
    this.isolationLevel = isolationLevel;
  }

  get outermost(): Scope {
    return this.parent ? this.parent.outermost : this;
  }

  /** This scope, then each enclosing one. */
  *chain(): Generator<Scope> {
    yield this;
    if (this.parent) yield* this.parent.chain();
  }

  /** True when `this` is `other` or nested inside it. */
  within(other: Scope): boolean {
    for (const scope of this.chain()) if (scope === other) return true;
    return false;
  }

  /** The nearest scope on this chain that is still open. */
  openAncestor(): Scope | undefined {
    for (const scope of this.chain()) if (scope.state === 'open') return scope;
    return undefined;
  }
}

/** An active `captureOnCommit`: collects commit hooks registered in its async context. */
export interface Capture {
  hooks: HookEntry[];
}

interface Store {
  /** The innermost open scope per root database in this async context. */
  scopes: Map<Database, Scope>;
  /** The most recently entered scope (whatever its database): the default for `onCommit`. */
  innermost: Scope | undefined;
  captures: readonly Capture[];
}

const storage = new AsyncLocalStorage<Store>();
const scopeOfTransaction = new WeakMap<Database, Scope>();

/** The root database a transaction opened by `atomic` belongs to; anything else is its own root. */
export function rootOf(db: Database): Database {
  return scopeOfTransaction.get(db)?.root ?? db;
}

/** Runs `fn` with `scope` as the innermost scope of its database. */
export function runInScope<T>(scope: Scope, fn: () => T): T {
  const store = storage.getStore();
  const scopes = new Map(store?.scopes);
  scopes.set(scope.root, scope);
  scopeOfTransaction.set(scope.tx, scope);
  return storage.run({ scopes, innermost: scope, captures: store?.captures ?? [] }, fn);
}

/** Runs `fn` with one more active capture. */
export function runWithCapture<T>(capture: Capture, fn: () => T): T {
  const store = storage.getStore();
  return storage.run(
    {
      scopes: store?.scopes ?? new Map(),
      innermost: store?.innermost,
      captures: [...(store?.captures ?? []), capture],
    },
    fn,
  );
}

/** The captures active in this async context. */
export function activeCaptures(): readonly Capture[] {
  return storage.getStore()?.captures ?? [];
}

/** Where a call on `db` lands: its root database and the open scope it joins, if any. */
export interface Target {
  root: Database;
  scope: Scope | undefined;
  /** Set when `db` is a transaction atomic() did not open. */
  unmanaged: boolean;
}

/**
 * Resolves `db` (a root database or a transaction) to the scope a call on it joins: the
 * innermost open scope of the same transaction in this async context, so code handed the outer
 * `tx` while a nested block is open lands in that block's savepoint, as its statements would.
 */
export function resolveTarget(db: unknown, operation: string): Target {
  familyOf(db, operation);
  const database = db as Database;
  const store = storage.getStore();
  const owned = scopeOfTransaction.get(database);
  if (owned) {
    if (owned.outermost.state !== 'open') {
      throw new RacefreeError(
        'TRANSACTION_ENDED',
        `${operation} was given a transaction that has already ended; use the database object, or call it inside the atomic() block.`,
      );
    }
    const active = store?.scopes.get(owned.root)?.openAncestor();
    const scope = active?.within(owned) ? active : owned.openAncestor();
    return { root: owned.root, scope, unmanaged: false };
  }
  if (isDrizzleTransaction(database)) return { root: database, scope: undefined, unmanaged: true };
  return { root: database, scope: store?.scopes.get(database)?.openAncestor(), unmanaged: false };
}

/** Like `resolveTarget`, but refuses a transaction atomic() did not open. */
export function resolveManagedTarget(db: unknown, operation: string): Target {
  const target = resolveTarget(db, operation);
  if (target.unmanaged) throw new UnmanagedTransactionError(operation);
  return target;
}

/**
 * Where a hook registered now, in this async context, belongs: the nearest open scope; or
 * `'rolled back'` when code is still running in a block that has already rolled back (work
 * left running after the driver rejected its transaction, or never awaited) — its hooks must
 * not run, least of all at once as if no transaction were open; or `undefined` when every
 * block around it has committed (the hook runs now). `db` narrows it to that database.
 */
export function hookScope(db: unknown, operation: string): Scope | 'rolled back' | undefined {
  let start: Scope | undefined;
  if (db === undefined) {
    start = storage.getStore()?.innermost;
  } else {
    const target = resolveManagedTarget(db, operation);
    if (target.scope) return target.scope;
    start = storage.getStore()?.scopes.get(target.root);
  }
  for (let scope = start; scope; scope = scope.parent) {
    if (scope.state === 'open') return scope;
    if (scope.state === 'rolled back') return 'rolled back';
  }
  return undefined;
}
