import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { addJob, type QueueExecutor } from './add-job.js';
import { type DatabaseIdentity, probeIdentity } from './database-identity.js';
import type { JobSpec } from './job-spec.js';

const renderer = new PgDialect();

/** Runs a Drizzle `sql` statement on a node-postgres client or pool (graphile-worker's driver). */
export function pgExecutor(client: pg.Pool | pg.ClientBase): QueueExecutor {
  return async (query: SQL) => {
    const { sql: text, params } = renderer.sqlToQuery(query);
    const result = await client.query<Record<string, unknown>>(text, params);
    return result.rows;
  };
}

/** The graphile-worker queue: its pool, its schema, and what we know about its database. */
export class Queue {
  private identityProbe: Promise<DatabaseIdentity> | undefined;

  constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    private readonly ownsPool: boolean,
  ) {
    // An idle client losing its connection emits 'error' on the pool; unhandled, it would
    // crash the process. The next query simply gets a fresh connection.
    if (ownsPool) {
      pool.on('error', (error) => console.error('[racefree] idle queue connection failed:', error));
      pool.on('connect', (client) => {
        client.on('error', (error) => console.error('[racefree] queue connection failed:', error));
      });
    }
  }

  /** The queue database's identity, probed once (a failed probe is forgotten). */
  identity(options: { fresh?: boolean } = {}): Promise<DatabaseIdentity> {
    if (options.fresh || !this.identityProbe) {
      const probe = probeIdentity(pgExecutor(this.pool));
      this.identityProbe = probe;
      probe.catch(() => {
        if (this.identityProbe === probe) this.identityProbe = undefined;
      });
    }
    return this.identityProbe;
  }

  /** Adds a job now, in its own transaction (autocommit on a pooled connection). */
  addNow(spec: JobSpec): Promise<string> {
    return addJob(pgExecutor(this.pool), this.schema, spec);
  }

  /** Runs `fn` in one transaction on a pooled connection: committed if `fn` resolves. */
  async transaction<T>(fn: (execute: QueueExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('begin');
      try {
        const result = await fn(pgExecutor(client));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: destroy it, never reuse it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** Ends the pool if this queue opened it (a pool you passed stays yours). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
