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

/** The lock a holder's callees share, live until the holder gives its turn back. */
interface Lease {
  readonly callees: Mutex;
  live: boolean;
  /** The lease whose callees this holder is one of, if any. */
  readonly parent: Lease | undefined;
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
  /** Gives the turn back once the callees still running or queued have finished. */
  release(): Promise<void>;
}

/**
 * Waits for a turn on `lock`. Re-entrant: called by code that already holds it, it waits only
 * for that holder's other callees, which share the connection one after the other.
 */
export async function takeTurn(lock: Mutex): Promise<Turn> {
  const { release: releaseTurn, via } = await enter(lock, held.getStore()?.get(lock));
  const lease: Lease = { callees: new Mutex(), live: true, parent: via };
  const inside = new Map(held.getStore());
  inside.set(lock, lease);
  return {
    run: (fn) => held.run(inside, fn),
    release: async () => {
      lease.live = false;
      // Callees already running, or queued, finish first: the connection is never handed on
      // under them. Those queued find the lease ended and wait for the turn around it.
      const idle = await lease.callees.acquire();
      idle();
      releaseTurn();
    },
  };
}

/**
 * Takes a place on the nearest live lease of the context (`lease`, or one around it), or on the
 * lock itself. A callback a holder left running after its turn ended (a timer, a floating
 * promise) still carries the holder's context, but that lease holds nothing any more.
 */
async function enter(
  lock: Mutex,
  lease: Lease | undefined,
): Promise<{ release: () => void; via: Lease | undefined }> {
  for (let current = lease; current; current = current.parent) {
    if (!current.live) continue;
    const release = await current.callees.acquire();
    if (current.live) return { release, via: current };
    release(); // it ended while this waited
  }
  return { release: await lock.acquire(), via: undefined };
}

/** Runs `fn` holding `root`'s connection lock when it has one (see `connectionLock`). */
export async function withConnectionTurn<T>(root: Database, fn: () => Promise<T>): Promise<T> {
  const lock = connectionLock(root);
  if (!lock) return fn();
  const turn = await takeTurn(lock);
  try {
    return await turn.run(fn);
  } finally {
    await turn.release();
  }
}
