import { randomUUID } from 'node:crypto';
import { createPostgresTestDatabase, postgresAdminUrl, type TestDatabase } from '@racefree/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConnectionRefusedError,
  connectWithRetry,
  redactUrl,
} from '@racefree/bookstore';
import { loadConfig } from '../src/config.js';
import { createLog } from '../src/log.js';
import { type RunningWorker, startWorker } from '../src/start-worker.js';

describe('configuration', () => {
  it('derives the queue from DATABASE_URL and reads concurrency', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@h/db', WORKER_CONCURRENCY: '3' });
    expect(config).toMatchObject({
      databaseKind: 'postgres',
      queueUrl: 'postgres://u:p@h/db',
      concurrency: 3,
    });
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:p@h/db' })).toThrow(/QUEUE_DATABASE_URL/);
    expect(
      loadConfig({ DATABASE_URL: 'mysql://u@h/db', QUEUE_DATABASE_URL: 'postgres://q/db' }),
    ).toMatchObject({ databaseKind: 'mysql', queueUrl: 'postgres://q/db' });
  });

  it('names a malformed URL in one line, password hidden', () => {
    const error = (() => {
      try {
        loadConfig({ DATABASE_URL: 'postgres://admin:s3cret@:5432:x/db' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toContain('admin:***@');
    expect(error?.message).not.toContain('s3cret');
    expect(() => loadConfig({ DATABASE_URL: 'redis://h' })).toThrow(/postgres:\/\/ or mysql:\/\//);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://h/db', WORKER_CONCURRENCY: '0' })).toThrow(
      /WORKER_CONCURRENCY/,
    );
    expect(redactUrl('postgres://a:b@h:1/d')).toBe('postgres://a:***@h:1/d');
  });
});

describe('connecting', () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLog((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const probe = (url: string) => async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it('retries an unreachable server, one line per attempt, then gives up naming the URL', async () => {
    lines.length = 0;
    const url = 'postgres://app:hunter2@127.0.0.1:1/app';
    const error = await connectWithRetry('the queue database', url, probe(url), {
      attempts: 2,
      onRetry: (line, details) => log('warning', line, details),
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect(error?.message).toMatch(/unreachable after 2 attempts/);
    expect(error?.message).toContain('app:***@127.0.0.1:1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warning', attempt: 1, of: 2 });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('fails at once on refused credentials', async () => {
    lines.length = 0;
    const url = new URL(postgresAdminUrl());
    url.username = 'no_such_role';
    url.password = 'pw';
    const error = await connectWithRetry(
      'the queue database',
      url.toString(),
      probe(url.toString()),
      {
        attempts: 5,
        onRetry: (line, details) => log('warning', line, details),
      },
    ).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect(error?.message).toMatch(/no_such_role/);
    expect(error?.message).not.toContain(':pw@');
    expect(lines).toHaveLength(0);
  });
});

describe('the example task (record_event)', () => {
  let database: TestDatabase;
  let worker: RunningWorker | undefined;
  let pool: pg.Pool;
  const lines: string[] = [];

  beforeAll(async () => {
    database = await createPostgresTestDatabase(postgresAdminUrl(), 'worker');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    worker = await startWorker(
      loadConfig({
        DATABASE_URL: database.url,
        WORKER_CONCURRENCY: '2',
        WORKER_POLL_INTERVAL_MS: '100',
      }),
      createLog((line) => lines.push(line), 'debug'),
    );
  });
  afterAll(async () => {
    await worker?.stop();
    await pool.end();
    await database.drop();
  });

  it('is idempotent: the same event delivered twice is recorded once', async () => {
    const eventId = randomUUID();
    // Two jobs for one event: what an at-least-once redelivery looks like to the handler.
    const { jobs } = worker as RunningWorker;
    const deadline = Date.now() + 10_000;
    for (let i = 0; i < 2; i++) {
      await pool.query(`select graphile_worker.add_job('record_event', $1::json)`, [
        JSON.stringify({ eventId, name: 'signup' }),
      ]);
    }
    const pending = async () =>
      Number(
        (await pool.query<{ n: string }>('select count(*) as n from graphile_worker._private_jobs'))
          .rows[0]?.n,
      );
    while ((await pending()) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await pending()).toBe(0);
    const { rows } = await pool.query('select name from worker_events where event_id = $1', [
      eventId,
    ]);
    expect(rows).toEqual([{ name: 'signup' }]);
    expect(jobs.tasks).toHaveProperty('record_event');
    // Structured logs: every line is one JSON object.
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(
      lines.some((line) => (JSON.parse(line) as { msg: string }).msg === 'worker started'),
    ).toBe(true);
  });

  it('stops gracefully: a job in flight finishes before stop() resolves', async () => {
    const eventId = randomUUID();
    // Hold the event's key in an open transaction: the handler's insert waits on it, so the
    // job is still running when the stop begins.
    const blocker = await pool.connect();
    await blocker.query('begin');
    await blocker.query(`insert into worker_events (event_id, name) values ($1, 'blocker')`, [
      eventId,
    ]);
    await pool.query(`select graphile_worker.add_job('record_event', $1::json)`, [
      JSON.stringify({ eventId, name: 'in flight' }),
    ]);
    const running = async () =>
      Number(
        (
          await pool.query<{ n: string }>(
            'select count(*) as n from graphile_worker._private_jobs where locked_at is not null',
          )
        ).rows[0]?.n,
      );
    while ((await running()) === 0) await new Promise((r) => setTimeout(r, 20));
    let stopped = false;
    const stopping = (worker as RunningWorker).stop().then(() => {
      stopped = true;
    });
    worker = undefined;
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // still waiting for the job in flight
    await blocker.query('commit');
    blocker.release();
    await stopping;
    const { rows } = await pool.query<{ n: string }>(
      'select count(*) as n from graphile_worker._private_jobs',
    );
    expect(Number(rows[0]?.n)).toBe(0); // completed, not abandoned
  });
});
