import { createPostgresTestDatabase, postgresAdminUrl, type TestDatabase } from '@racefree/testkit';
import { Logger, runMigrations } from 'graphile-worker';
import pg from 'pg';

/** graphile-worker logs nothing in tests unless RACEFREE_DEBUG is set. */
export const quietLogger = new Logger(() => (level, message) => {
  if (process.env.RACEFREE_DEBUG) console.log(`[graphile-worker ${level}] ${message}`);
});

/** Lets a test pool lose connections (a test terminating backends) without crashing the run. */
export function quietPool(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** A fresh PostgreSQL database holding a migrated graphile-worker queue. */
export interface QueueDatabase {
  database: TestDatabase;
  pool: pg.Pool;
  /**
   * Jobs of a task with their payloads (completed jobs are deleted). Read from
   * `_private_jobs`, never written: graphile-worker's public `jobs` view has no payload.
   */
  jobs(task: string): Promise<
    {
      id: string;
      payload: Record<string, unknown>;
      attempts: number;
      max_attempts: number;
      last_error: string | null;
      key: string | null;
      queue_name: string | null;
      priority: number;
      run_at: Date;
    }[]
  >;
  close(): Promise<void>;
}

export async function createQueueDatabase(options: { max?: number } = {}): Promise<QueueDatabase> {
  const database = await createPostgresTestDatabase(postgresAdminUrl(), 'jobs');
  const pool = new pg.Pool({ connectionString: database.url, max: options.max ?? 6 });
  quietPool(pool);
  await runMigrations({ pgPool: pool, logger: quietLogger });
  return {
    database,
    pool,
    async jobs(task) {
      const { rows } = await pool.query(
        `select j.id::text as id, j.payload, j.attempts, j.max_attempts, j.last_error, j.key, q.queue_name, j.priority, j.run_at
           from graphile_worker._private_jobs j
           join graphile_worker._private_tasks t on t.id = j.task_id
           left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
          where t.identifier = $1 order by j.id`,
        [task],
      );
      return rows;
    },
    async close() {
      await pool.end();
      await database.drop();
    },
  };
}
