import { atomic, type Database, InvalidArgumentError } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { runMigrations } from 'graphile-worker';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createJobs,
  defineTasks,
  InvalidPayloadError,
  installOutbox,
  type Jobs,
  UnknownTaskError,
} from '../src/index.js';
import { createQueueDatabase, quietLogger } from './support/queue-database.js';

const tasks = defineTasks({
  welcome: z.object({ userId: z.number().int(), note: z.string().optional() }),
});

/**
 * The contract on every database: a job enqueued in a transaction exists if and only if that
 * transaction commits, exactly once, and nobody can see it earlier. On PostgreSQL the job is in
 * the transaction itself; on MySQL/MariaDB it is an outbox row the relay moves.
 */
describeDialects('enqueue joins the surrounding transaction', (t) => {
  let pool: pg.Pool;
  let jobs: Jobs<typeof tasks>;
  let closeQueue: () => Promise<void>;
  let nextUser = 0;
  const db = (): Database => t.connection.db;

  beforeAll(async () => {
    if (t.kind === 'postgres') {
      // The data and the queue share one database: jobs are added on the data's transaction.
      pool = new pg.Pool({ connectionString: t.database.url, max: 3 });
      pool.on('error', () => undefined);
      await runMigrations({ pgPool: pool, logger: quietLogger });
      jobs = createJobs({ tasks, pool, db: t.connection.db as never });
      closeQueue = () => pool.end();
      await t.connection.query('create table users (id int primary key, name text not null)');
    } else {
      const queue = await createQueueDatabase({ max: 3 });
      pool = queue.pool;
      jobs = createJobs({ tasks, pool });
      closeQueue = () => queue.close();
      await installOutbox(t.connection.db as never);
      await installOutbox(t.connection.db as never); // idempotent
      await t.connection.query(
        'create table users (id int primary key, name varchar(50) not null) engine=InnoDB',
      );
    }
  });
  afterAll(async () => {
    await jobs.close();
    await closeQueue();
  });

  /** Jobs for `userId` in the queue, read on a connection of its own. */
  async function queued(userId: number): Promise<number> {
    const { rows } = await pool.query<{ n: string }>(
      `select count(*) as n from graphile_worker._private_jobs where (payload->>'userId')::int = $1`,
      [userId],
    );
    return Number(rows[0]?.n);
  }
  /** What a worker would find once delivery is done (MySQL: after a relay pass). */
  async function delivered(userId: number): Promise<number> {
    if (t.kind === 'mysql') await jobs.relay(t.connection.db as never);
    return queued(userId);
  }
  async function outboxRows(): Promise<number> {
    const [row] = await t.connection.query<{ n: number }>(
      'select count(*) as n from racefree_outbox',
    );
    return Number(row?.n);
  }
  const insertUser = (tx: Database, id: number) =>
    executeStatement(tx, sql`insert into users (id, name) values (${id}, ${`user ${id}`})`);

  it('is invisible to other connections until commit, then exists exactly once', async () => {
    const userId = ++nextUser;
    const result = await atomic(db(), async (tx) => {
      await insertUser(tx, userId);
      const enqueued = await jobs.enqueue(tx, 'welcome', { userId });
      // Another connection sees neither the job nor (on MySQL) its outbox row yet.
      expect(await queued(userId)).toBe(0);
      if (t.kind === 'mysql') expect(await outboxRows()).toBe(0);
      return enqueued;
    });
    expect(result.queued).toBe(t.kind === 'postgres' ? 'in-transaction' : 'outbox');
    expect(await delivered(userId)).toBe(1);
    // A second relay pass (or none, on PostgreSQL) never adds it again.
    expect(await delivered(userId)).toBe(1);
  });

  it('never exists when the transaction rolls back', async () => {
    const userId = ++nextUser;
    await expect(
      atomic(db(), async (tx) => {
        await insertUser(tx, userId);
        await jobs.enqueue(db(), 'welcome', { userId }); // the root db joins the open block too
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await delivered(userId)).toBe(0);
  });

  it('goes with a savepoint that rolls back, and stays with one that is released', async () => {
    const kept = ++nextUser;
    const dropped = ++nextUser;
    await atomic(db(), async (tx) => {
      await atomic(tx, async (inner) => {
        await jobs.enqueue(inner, 'welcome', { userId: kept });
      });
      await atomic(tx, async (inner) => {
        await jobs.enqueue(inner, 'welcome', { userId: dropped });
        throw new Error('inner');
      }).catch(() => undefined);
    });
    expect(await delivered(kept)).toBe(1);
    expect(await delivered(dropped)).toBe(0);
  });

  it('joins a raw db.transaction() as well', async () => {
    const committed = ++nextUser;
    const rolledBack = ++nextUser;
    const raw = t.connection.db as unknown as {
      transaction(fn: (tx: Database) => Promise<void>): Promise<void>;
    };
    await raw.transaction(async (tx) => {
      await jobs.enqueue(tx, 'welcome', { userId: committed });
    });
    await raw
      .transaction(async (tx) => {
        await jobs.enqueue(tx, 'welcome', { userId: rolledBack });
        throw new Error('raw rollback');
      })
      .catch(() => undefined);
    expect(await delivered(committed)).toBe(1);
    expect(await delivered(rolledBack)).toBe(0);
  });

  it('adds the job at once outside a transaction', async () => {
    const userId = ++nextUser;
    const result = await jobs.enqueue(db(), 'welcome', { userId });
    expect(result.queued).toBe('now');
    expect(await queued(userId)).toBe(1);
  });

  it('refuses a bad payload, an unknown task or bad options before writing anything', async () => {
    const userId = ++nextUser;
    await atomic(db(), async (tx) => {
      const error = await jobs
        .enqueue(tx, 'welcome', { userId: 'seven' } as never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect((error as InvalidPayloadError).message).toMatch(/userId/);
      expect((error as InvalidPayloadError).issues[0]?.path).toBe('userId');
      await expect(jobs.enqueue(tx, 'welcom' as never, { userId } as never)).rejects.toBeInstanceOf(
        UnknownTaskError,
      );
      await expect(
        jobs.enqueue(tx, 'welcome', { userId }, { maxAttempts: 0 }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      // None of those broke the transaction: no SQL was sent for them.
      await insertUser(tx, userId);
    });
    expect(await delivered(userId)).toBe(0);
    if (t.kind === 'mysql') expect(await outboxRows()).toBe(0);
  });
});
