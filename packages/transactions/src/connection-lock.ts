import { type Database, driverOf } from './database.js';
import { Mutex } from './mutex.js';

const locks = new WeakMap<object, Mutex>();

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

/** Runs `fn` holding `root`'s connection lock when it has one (see `connectionLock`). */
export function withConnectionTurn<T>(root: Database, fn: () => Promise<T>): Promise<T> {
  const lock = connectionLock(root);
  return lock ? inTurn(lock, fn) : fn();
}

async function inTurn<T>(lock: Mutex, fn: () => Promise<T>): Promise<T> {
  const release = await lock.acquire();
  try {
    return await fn();
  } finally {
    release();
  }
}
