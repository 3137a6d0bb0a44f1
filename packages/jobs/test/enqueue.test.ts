import { atomic, type Database, InvalidArgumentError } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { runMigrations } from 'graphile-worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createJobs,
  type Delivery,
  defineTasks,
  InvalidPayloadError,
  installOutbox,
  type Jobs,
  UnknownTaskError,
} from '../src/index.js';
import { createQueueDatabase, quietLogger, quietPool } from './support/queue-database.js';

const tasks = defineTasks({
  welcome: z.object({ userId: z.number().int(), note: z.string().optional() }),
});

/**
 * The contract on every database, driver and delivery: a job enqueued in a transaction exists
 * if and only if that transaction commits, exactly once, and nobody can see it earlier. On
 * PostgreSQL with `add_job` the job is in the transaction itself; with the outbox (always on
 * MySQL/MariaDB) it is an outbox row that the relay moves.
 */
describeDialects('enqueue joins the surrounding transaction', (t) => {
  let pool: pg.Pool;
  let closeQueue: () => Promise<void>;
  let nextUser = 0;
  const db = (): Database => t.connection.db;

  beforeAll(async () => {
    if (t.kind === 'postgres') {
      // The data and the queue share one database.
      pool = quietPool(new pg.Pool({ connectionString: t.database.url, max: 3 }));
      await runMigrations({ pgPool: pool, logger: quietLogger });
      closeQueue = () => pool.end();
      await t.connection.query('create table users (id int primary key, name text not null)');
    } else {
      const queue = await createQueueDatabase({ max: 3 });
      pool = queue.pool;
      closeQueue = () => queue.close();
      await t.connection.query(
        'create table users (id int primary key, name varchar(50) not null) engine=InnoDB',
      );
    }
    await installOutbox(db());
    await installOutbox(db()); // idempotent
  });
  afterAll(async () => {
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
  async function outboxRows(): Promise<number> {
    const [row] = await t.connection.query<{ n: number }>(
      'select count(*) as n from racefree_outbox',
    );
    return Number(row?.n);
  }
  const insertUser = (tx: Database, id: number) =>
    executeStatement(tx, sql`insert into users (id, name) values (${id}, ${`user ${id}`})`);

  const deliveries: Delivery[] = t.kind === 'postgres' ? ['add_job', 'outbox'] : ['add_job'];
  for (const delivery of deliveries) {
    const viaOutbox = t.kind === 'mysql' || delivery === 'outbox';
    describe(`delivery: '${delivery}'`, () => {
      let jobs: Jobs<typeof tasks>;
      beforeAll(() => {
        jobs = createJobs({
          tasks,
          pool,
          delivery,
          db: t.kind === 'postgres' ? (db() as never) : undefined,
        });
      });
      afterAll(async () => {
        await jobs.close();
      });

      /** What a worker would find once delivery is done (the outbox: after a relay pass). */
      async function delivered(userId: number): Promise<number> {
        if (viaOutbox) await jobs.relay(db());
        return queued(userId);
      }

      it('is invisible to other connections until commit, then exists exactly once', async () => {
        const userId = ++nextUser;
        const result = await atomic(db(), async (tx) => {
          await insertUser(tx, userId);
          const enqueued = await jobs.enqueue(tx, 'welcome', { userId });
          // Another connection sees neither the job nor its outbox row yet.
          expect(await queued(userId)).toBe(0);
          if (viaOutbox) expect(await outboxRows()).toBe(0);
          return enqueued;
        });
        expect(result.queued).toBe(viaOutbox ? 'outbox' : 'in-transaction');
        expect(await delivered(userId)).toBe(1);
        // Another relay pass (or none, with add_job) never adds it again.
        expect(await delivered(userId)).toBe(1);
        if (viaOutbox) expect(await outboxRows()).toBe(0);
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
          await expect(
            jobs.enqueue(tx, 'welcom' as never, { userId } as never),
          ).rejects.toBeInstanceOf(UnknownTaskError);
          await expect(
            jobs.enqueue(tx, 'welcome', { userId }, { maxAttempts: 0 }),
          ).rejects.toBeInstanceOf(InvalidArgumentError);
          // None of those broke the transaction (on PostgreSQL any failed statement would):
          // no SQL was sent for them.
          await insertUser(tx, userId);
        });
        expect(await delivered(userId)).toBe(0);
        expect(await outboxRows()).toBe(0);
      });
    });
  }
});
