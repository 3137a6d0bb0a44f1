import { AsyncLocalStorage } from 'node:async_hooks';
import { type Database, driverOf } from './database.js';
import { Mutex } from './mutex.js';

const locks = new WeakMap<object, Mutex>();

/**
 * For each connection lock the current async context holds, the lock its own callees take
 * turns on. Code run while holding a turn (a `defaults` function, a hook) may call racefree on
 * the same database again: waiting for the outer turn would wait for itself, forever.
 */
const held = new AsyncLocalStorage<ReadonlyMap<Mutex, Lease>>();

/** The lock a holder's callees share, live until the holder releases its turn. */
interface Lease {
  readonly callees: Mutex;
  live: boolean;
}

/**
 * The turn-taking lock of a root database that holds one connection (node-postgres `Client` or
 * `PoolClient`, a mysql2 connection), or `undefined` for a pool. Two transactions open at once
 * on one connection would share it — the second BEGIN lands inside the first — so `atomic`
 * blocks on such a database take turns, and racefree's own statements outside a transaction
 * wait for the open one to end instead of joining it.
 */
export function connectionLock(root: Database): Mutex | undefined {
  const client = (root as { $client?: unknown }).$client;
  if (client === null || client === undefined || !driverOf(root).holdsOneConnection(client))
    return undefined;
  let lock = locks.get(root);
  if (!lock) locks.set(root, (lock = new Mutex()));
  return lock;
}

/** A turn on a connection, held until `release()`. */
export interface Turn {
  /** Runs `fn` as the turn's holder: racefree calls it makes on the connection do not wait for this turn. */
  run<T>(fn: () => T): T;
  release(): void;
}

/**
 * Waits for a turn on `lock`. Re-entrant: called by code that already holds it, it waits only
 * for that holder's other callees, which share the connection one after the other.
 */
export async function takeTurn(lock: Mutex): Promise<Turn> {
  const outer = held.getStore()?.get(lock);
  // A callback the holder left running after its turn ended (a timer, a floating promise)
  // still carries its context, but holds nothing any more: it waits like anyone else.
  const releaseTurn = await (outer?.live ? outer.callees : lock).acquire();
  const lease: Lease = { callees: new Mutex(), live: true };
  const inside = new Map(held.getStore());
  inside.set(lock, lease);
  return {
    run: (fn) => held.run(inside, fn),
    release: () => {
      lease.live = false;
      releaseTurn();
    },
  };
}

/** Runs `fn` holding `root`'s connection lock when it has one (see `connectionLock`). */
export async function withConnectionTurn<T>(root: Database, fn: () => Promise<T>): Promise<T> {
  const lock = connectionLock(root);
  if (!lock) return fn();
  const turn = await takeTurn(lock);
  try {
    return await turn.run(fn);
  } finally {
    turn.release();
  }
}
