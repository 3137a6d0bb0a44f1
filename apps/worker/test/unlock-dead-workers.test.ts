import { randomUUID } from 'node:crypto';
import { createPostgresTestDatabase, postgresAdminUrl, type TestDatabase } from '@racefree/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLog } from '../src/log.js';
import { parseDuration } from '../src/parse-duration.js';
import { type RunningWorker, startWorker } from '../src/start-worker.js';
import { unlockDeadWorkers } from '../src/unlock-dead-workers.js';

const addJob = (pool: pg.Pool, eventId: string) =>
  pool.query<{ id: string }>(
    `select id::text from graphile_worker.add_job('record_event', $1::json, run_at => now() + interval '1 hour')`,
    [JSON.stringify({ eventId, name: 'test' })],
  );

describe('unlock-dead-workers and the orphaned-lock sweeper', () => {
  let database: TestDatabase;
  let worker: RunningWorker | undefined;
  let workerId: string;
  let pool: pg.Pool;
  const lines: string[] = [];

  beforeAll(async () => {
    database = await createPostgresTestDatabase(postgresAdminUrl(), 'unlock');
    pool = new pg.Pool({ connectionString: database.url, max: 3 });
    worker = await startWorker(
      loadConfig({
        DATABASE_URL: database.url,
        WORKER_CONCURRENCY: '1',
        WORKER_POLL_INTERVAL_MS: '100',
        WORKER_ORPHANED_LOCK_AGE_MS: '2000',
      }),
      createLog((line) => lines.push(line), 'debug'),
    );
    const started = lines
      .map((line) => JSON.parse(line) as { msg: string; workerId?: string })
      .find((line) => line.msg === 'worker started');
    workerId = started?.workerId ?? '';
  });
  afterAll(async () => {
    await worker?.stop();
    await pool.end();
    await database.drop();
  });

  it('announces the worker: its presence lock is held and visible', async () => {
    expect(workerId).toMatch(/^pool-/);
    const { rows } = await pool.query<{ n: string }>(
      `select count(*) as n from pg_stat_activity where application_name = $1`,
      [`racefree-worker ${workerId}`],
    );
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('frees the jobs of a worker that holds no presence, keeps a live one’s', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // A dead worker's job (locked 10 minutes ago), a fresh lock of another dead worker, and
      // a job "locked by" the live worker (as if it were running it).
      const dead = (await addJob(pool, randomUUID())).rows[0]?.id;
      const fresh = (await addJob(pool, randomUUID())).rows[0]?.id;
      const live = (await addJob(pool, randomUUID())).rows[0]?.id;
      await pool.query(
        `update graphile_worker._private_jobs set locked_by = 'pool-dead', locked_at = now() - interval '10 minutes' where id = $1`,
        [dead],
      );
      await pool.query(
        `update graphile_worker._private_jobs set locked_by = 'pool-starting', locked_at = now() where id = $1`,
        [fresh],
      );
      // (Locked "in the future": the live worker's own sweeper frees its locks older than 2 s,
      // which a stalled test run could reach; this one it never takes.)
      await pool.query(
        `update graphile_worker._private_jobs set locked_by = $2, locked_at = now() + interval '1 hour' where id = $1`,
        [live, workerId],
      );
      const report = await unlockDeadWorkers(client, { minAgeMs: parseDuration('60s') });
      const byId = new Map(report.map((w) => [w.workerId, w]));
      expect(byId.get('pool-dead')).toMatchObject({ action: 'unlocked', alive: false, jobs: 1 });
      expect(byId.get('pool-starting')).toMatchObject({ action: 'kept', alive: false });
      expect(byId.get(workerId)).toMatchObject({ action: 'kept', alive: true });
      const { rows } = await pool.query<{ id: string; locked_by: string | null }>(
        'select id::text, locked_by from graphile_worker._private_jobs where id = any($1::bigint[]) order by id',
        [[dead, fresh]],
      );
      expect(rows).toEqual([
        { id: dead, locked_by: null },
        { id: fresh, locked_by: 'pool-starting' },
      ]);
      // --dry-run changes nothing.
      const dry = await unlockDeadWorkers(client, { minAgeMs: 0, dryRun: true });
      expect(dry.find((w) => w.workerId === 'pool-starting')?.action).toBe('would unlock');
      const [still] = (
        await pool.query<{ locked_by: string | null }>(
          'select locked_by from graphile_worker._private_jobs where id = $1',
          [fresh],
        )
      ).rows;
      expect(still?.locked_by).toBe('pool-starting');
    } finally {
      await client.end();
    }
  });

  it('releases a job locked in the live worker’s name that it is not running', async () => {
    const id = (await addJob(pool, randomUUID())).rows[0]?.id;
    await pool.query(
      `update graphile_worker._private_jobs set locked_by = $2, locked_at = now() - interval '1 minute' where id = $1`,
      [id, workerId],
    );
    // The sweeper logs after its UPDATE has committed (and after waking the workers), so the
    // row can read unlocked before the line exists: wait for the line naming this job, then
    // check the row.
    const released = () =>
      lines.some(
        (line) => line.includes('released jobs this worker had locked') && line.includes(`"${id}"`),
      );
    const deadline = Date.now() + 20_000;
    while (!released() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(released()).toBe(true);
    const { rows } = await pool.query<{ locked_by: string | null }>(
      'select locked_by from graphile_worker._private_jobs where id = $1',
      [id],
    );
    expect(rows[0]?.locked_by).toBeNull();
  });

  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('4h')).toBe(14_400_000);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
