import type { Database, TransactionOf } from './database.js';
import type { IsolationLevel } from './dialects/dialect.js';
import { resolveTarget } from './scope.js';

/**
 * The transaction `atomic` has open for `db` in this async context, or `db` itself when there
 * is none (Django gets this from its per-thread connection). Every racefree helper resolves
 * its `db` argument through it, so code written against `db` joins the surrounding
 * transaction instead of silently autocommitting on another connection.
 *
 * @example
 * await atomic(db, async () => {
 *   await current(db).insert(books).values(book); // rolls back with the block
 * });
 */
export function current<D extends Database>(db: D): D | TransactionOf<D> {
  const { scope } = resolveTarget(db, 'current');
  return (scope?.tx ?? db) as D | TransactionOf<D>;
}

/** What racefree knows about the transaction a call on `db` would join. */
export interface ActiveTransaction<D extends Database> {
  tx: D | TransactionOf<D>;
  /** The root database the transaction was opened on (for a pool-level probe or a second connection). */
  root: Database;
  /** `undefined` for a transaction atomic() did not open: racefree cannot know its level. */
  isolationLevel: IsolationLevel | undefined;
  /** 0 for the outermost block, 1 for a savepoint inside it, … */
  depth: number;
  /** True when the transaction was opened by `db.transaction()` rather than `atomic` (no hooks, level unknown). */
  unmanaged: boolean;
}

/**
 * The transaction a call on `db` joins, or `undefined` outside any. Helpers use it to decide
 * whether they need their own transaction and which strategy is exact at this isolation level.
 */
export function activeTransaction<D extends Database>(db: D): ActiveTransaction<D> | undefined {
  const target = resolveTarget(db, 'activeTransaction');
  if (target.unmanaged)
    return { tx: db, root: db, isolationLevel: undefined, depth: 0, unmanaged: true };
  const scope = target.scope;
  if (!scope) return undefined;
  let depth = 0;
  for (let s = scope.parent; s; s = s.parent) depth += 1;
  return {
    tx: scope.tx as D | TransactionOf<D>,
    root: scope.root,
    isolationLevel: scope.outermost.isolationLevel,
    depth,
    unmanaged: false,
  };
}
