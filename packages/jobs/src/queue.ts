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
/** How long a failed schema-revision probe is not repeated (each would cost every enqueue a round trip). */
const REVISION_RETRY_MS = 10_000;

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
  private revision: Promise<{ supported: boolean; until: number }> | undefined;
  private revisionFailureLogged = false;
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
   * at exactly the migration that statement was written for. Probed on the queue's pool, and
   * remembered when the answer is final: 19 (yes) or a newer schema (no, with one warning). An
   * older or missing schema (a `migrate()` may be about to run) is asked again next time; a
   * probe that fails is logged once and not retried for `REVISION_RETRY_MS`. Every "no" means
   * `add_job`, which is always correct.
   */
  async quietInsertSupported(): Promise<boolean> {
    const cached = this.revision;
    if (cached) {
      const answer = await cached;
      if (Date.now() < answer.until) return answer.supported;
      if (this.revision === cached) this.revision = undefined;
    }
    this.revision ??= this.readRevision();
    return (await this.revision).supported;
  }

  /** One probe of the schema's last migration: the answer, and until when it holds. */
  private async readRevision(): Promise<{ supported: boolean; until: number }> {
    const forever = Number.POSITIVE_INFINITY;
    try {
      const [row] = await pgExecutor(this.pool)({
        sql: `select max(id)::int as revision from ${quoteIdentifier(this.schema)}.migrations`,
        params: [],
      });
      const revision = (row?.revision as number | null | undefined) ?? null;
      if (revision === INSERT_JOB_SCHEMA_REVISION) return { supported: true, until: forever };
      if (revision === null || revision < INSERT_JOB_SCHEMA_REVISION)
        return { supported: false, until: 0 };
      console.warn(
        `[racefree] the graphile-worker schema "${this.schema}" is at migration ${revision}, not ${INSERT_JOB_SCHEMA_REVISION} (graphile-worker 0.17.3): every job goes through add_job, NOTIFY included, until @racefree/jobs supports that schema.`,
      );
      return { supported: false, until: forever };
    } catch (error) {
      if (!this.revisionFailureLogged) {
        this.revisionFailureLogged = true;
        console.warn(
          `[racefree] could not read the graphile-worker schema's migration in "${this.schema}"; jobs go through add_job (NOTIFY included) until it can be read:`,
          error,
        );
      }
      return { supported: false, until: Date.now() + REVISION_RETRY_MS };
    }
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
