import { is, SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { addJob, type QueueExecutor } from './add-job.js';
import { type DatabaseIdentity, probeIdentity } from './database-identity.js';
import { INSERT_JOB_SCHEMA_REVISION } from './insert-job.js';
import type { JobSpec } from './job-spec.js';
import { quoteIdentifier } from './quote-identifier.js';
import { type WakeUps, wakeUpsFor } from './wake-ups.js';

const renderer = new PgDialect();

/** How long `close()` waits for wake-ups still in flight (a queue database gone dark). */
const CLOSE_WAKE_UPS_MS = 5000;

/** Runs a statement (Drizzle SQL, or already rendered) on a node-postgres client or pool. */
export function pgExecutor(client: pg.Pool | pg.ClientBase): QueueExecutor {
  return async (query) => {
    const { sql: text, params } = is(query, SQL) ? renderer.sqlToQuery(query) : query;
    const result = await client.query<Record<string, unknown>>(text, params as unknown[]);
    return result.rows;
  };
}

/** The graphile-worker queue: its pool, its schema, and what we know about its database. */
export class Queue {
  private identityProbe: Promise<DatabaseIdentity> | undefined;
  private revisionProbe: Promise<boolean> | undefined;
  /** Wake-ups for jobs inserted without `add_job`'s NOTIFY, sent after their commit. */
  readonly wakeUps: WakeUps;

  constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    private readonly ownsPool: boolean,
  ) {
    this.wakeUps = wakeUpsFor(pool);
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

  /**
   * Whether jobs may be written with `insertJob` (no NOTIFY): only when the queue's schema is
   * at exactly the migration that statement was written for. Probed once on the queue's pool;
   * a failed probe is forgotten and answers `false` (then `add_job` reports the real problem).
   */
  quietInsertSupported(): Promise<boolean> {
    if (!this.revisionProbe) {
      const probe = this.pool
        .query<{ revision: number | null }>(
          `select max(id)::int as revision from ${quoteIdentifier(this.schema)}.migrations`,
        )
        .then(({ rows: [row] }) => {
          const revision = row?.revision ?? null;
          if (revision === INSERT_JOB_SCHEMA_REVISION) return true;
          console.warn(
            `[racefree] the graphile-worker schema "${this.schema}" is at migration ${revision ?? 'none'}, not ${INSERT_JOB_SCHEMA_REVISION} (graphile-worker 0.17.3): every job goes through add_job, NOTIFY included, until @racefree/jobs supports that schema.`,
          );
          return false;
        });
      this.revisionProbe = probe;
      return probe.catch(() => {
        if (this.revisionProbe === probe) this.revisionProbe = undefined;
        return false;
      });
    }
    return this.revisionProbe.catch(() => false);
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

  /**
   * Sends the wake-ups still owed (waiting at most `CLOSE_WAKE_UPS_MS`: a job whose wake-up
   * is not sent still runs, at the workers' next poll), then ends the pool if this queue
   * opened it.
   */
  async close(): Promise<void> {
    await this.wakeUps.idle(CLOSE_WAKE_UPS_MS);
    if (this.ownsPool) await this.pool.end();
  }
}
