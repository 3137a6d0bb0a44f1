import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Log } from './log.js';

/**
 * The first key of every presence lock (`pg_advisory_lock(WORKER_PRESENCE_LOCK_CLASS,
 * hashtext(workerId))`): "rfwk" as an int4, so presence locks do not collide with other
 * two-key advisory locks an application may take.
 */
export const WORKER_PRESENCE_LOCK_CLASS = 0x7266776b;

/** `application_name` prefix of presence connections (visible in `pg_stat_activity`). */
export const WORKER_PRESENCE_APPLICATION_NAME = 'racefree-worker';

/** A worker's presence in the queue database: proof, for `unlock-dead-workers`, that it lives. */
export interface WorkerPresence {
  /**
   * Announces `workerId` (graphile-worker's `locked_by` value, the pool id): takes its presence
   * lock on the dedicated connection. Resolves once the lock is held.
   */
  announce(workerId: string): Promise<void>;
  /** Releases the presence (closes the connection). */
  close(): Promise<void>;
}

/**
 * Opens the dedicated connection that carries this worker's presence lock.
 *
 * Why: graphile-worker 0.17 keeps no record of live workers — `locked_by` is a random pool id,
 * `locked_at` is written once when a job is taken and never refreshed — so from the database
 * alone a long job of a live worker and a job of a `SIGKILL`ed one look the same. A session
 * advisory lock is released by the server the moment the session ends, however the process
 * died, so "nobody holds the lock" is a reliable "this worker is gone". If the connection is
 * lost while the worker lives, it is re-opened with backoff and the lock taken again; in that
 * gap the worker looks dead, and an unlock then means at most a second delivery of its jobs in
 * flight (handlers are idempotent: delivery is at-least-once anyway).
 */
export async function openWorkerPresence(
  connectionString: string,
  log: Log,
): Promise<WorkerPresence> {
  let client: pg.Client | undefined;
  let workerId: string | undefined;
  let closed = false;
  let reconnecting: Promise<void> | undefined;

  const connect = async (): Promise<pg.Client> => {
    const next = new pg.Client({ connectionString });
    next.on('error', (error) => {
      if (closed || client !== next) return;
      log('warning', 'worker presence connection lost; re-announcing', { error });
      client = undefined;
      reconnecting ??= reconnect().finally(() => {
        reconnecting = undefined;
      });
    });
    await next.connect();
    return next;
  };

  const take = async (target: pg.Client, id: string): Promise<void> => {
    await target.query('select set_config($1, $2, false)', [
      'application_name',
      `${WORKER_PRESENCE_APPLICATION_NAME} ${id}`.slice(0, 63),
    ]);
    await target.query('select pg_advisory_lock($1, hashtext($2))', [
      WORKER_PRESENCE_LOCK_CLASS,
      id,
    ]);
  };

  const reconnect = async (): Promise<void> => {
    for (let attempt = 1; !closed; attempt++) {
      let next: pg.Client | undefined;
      try {
        next = await connect();
        if (workerId !== undefined) await take(next, workerId);
        if (closed) {
          await next.end().catch(() => undefined);
          return;
        }
        client = next;
        log('info', 'worker presence re-announced', { workerId });
        return;
      } catch (error) {
        await next?.end().catch(() => undefined);
        const pauseMs = Math.min(8000, 250 * 2 ** attempt);
        log('warning', 'worker presence: cannot reconnect yet', { error, retryInMs: pauseMs });
        await sleep(pauseMs);
      }
    }
  };

  client = await connect();
  return {
    async announce(id) {
      workerId = id;
      if (client) await take(client, id);
    },
    async close() {
      closed = true;
      await reconnecting;
      await client?.end().catch(() => undefined);
    },
  };
}
