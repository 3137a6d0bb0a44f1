import { setTimeout as sleep } from 'node:timers/promises';
import { atomic } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { describeDialects, type MysqlConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createJobs,
  defineTasks,
  installOutbox,
  type Jobs,
  OutboxMissingError,
  type RelayBatch,
} from '../src/index.js';
import { listen } from './support/listen.js';
import { createQueueDatabase, type QueueDatabase } from './support/queue-database.js';

const tasks = defineTasks({ ship: z.object({ orderId: z.number().int() }) });

const TRANSACTIONS = 200;
const PRODUCERS = 8;

/** Thrown by the fault-injection point: the relay dies between its two commits. */
class SimulatedCrash extends Error {}

describeDialects(
  'outbox relay',
  (t) => {
    let queue: QueueDatabase;
    let jobs: Jobs<typeof tasks>;
    const mysqlDb = () => t.connection.db as never as Parameters<Jobs<typeof tasks>['relay']>[0];

    beforeAll(async () => {
      queue = await createQueueDatabase({ max: 6 });
      jobs = createJobs({ tasks, pool: queue.pool });
      await t.connection.query(
        'create table orders (id int primary key, note varchar(20) not null) engine=InnoDB',
      );
    });
    afterAll(async () => {
      await queue.close();
    });

    const shipped = async () =>
      (await queue.jobs('ship')).map((job) => Number(job.payload.orderId));
    const outboxIds = async () =>
      (await t.connection.query<{ id: number }>('select id from racefree_outbox order by id')).map(
        (row) => String(row.id),
      );
    const ledgerIds = async () =>
      (
        await queue.pool.query<{ id: string }>(
          'select outbox_id::text as id from racefree_jobs.outbox_ledger order by outbox_id',
        )
      ).rows.map((row) => row.id);

    it('names the missing outbox table and how to create it', async () => {
      await expect(
        atomic(mysqlDb(), (tx) => jobs.enqueue(tx, 'ship', { orderId: 0 })),
      ).rejects.toBeInstanceOf(OutboxMissingError);
      await installOutbox(mysqlDb());
    });

    it(`${TRANSACTIONS} transactions, half rolled back; two relays, one killed between its commits → each committed job exactly once`, async () => {
      // Each relay has its own pool, as separate processes would.
      const poolA = (await t.connect({ max: 2 })) as MysqlConnection;
      const poolB = (await t.connect({ max: 2 })) as MysqlConnection;
      const committed: number[] = [];
      const batches: RelayBatch[] = [];
      let crashed: RelayBatch | undefined;

      // Relay B: a loop, as the worker app runs it.
      const relayB = jobs.startRelay(poolB.db as never, {
        batchSize: 7,
        pollIntervalMs: 5,
        onBatch: (batch) => void batches.push(batch),
        onError: (error) => {
          throw error;
        },
      });
      // Relay A: dies at the fault-injection point on its first non-empty batch — its jobs and
      // ledger entries committed in PostgreSQL, its outbox rows not yet deleted — then restarts.
      const relayA = (async () => {
        for (;;) {
          try {
            await jobs.relay(poolA.db as never, {
              batchSize: 7,
              onBatch: (batch) => void batches.push(batch),
              faults: {
                afterQueueCommit: (batch) => {
                  crashed = batch;
                  throw new SimulatedCrash(
                    'killed between the PostgreSQL commit and the MySQL delete',
                  );
                },
              },
            });
          } catch (error) {
            if (error instanceof SimulatedCrash) return;
            throw error;
          }
          await sleep(5);
        }
      })();

      let next = 1;
      const producing = Promise.all(
        Array.from({ length: PRODUCERS }, async () => {
          while (next <= TRANSACTIONS) {
            const orderId = next++;
            const rollBack = orderId % 2 === 0;
            await atomic(mysqlDb(), async (tx) => {
              await executeStatement(
                tx,
                sql`insert into orders (id, note) values (${orderId}, 'new')`,
              );
              await jobs.enqueue(tx, 'ship', { orderId });
              if (rollBack) throw new Error('payment declined');
            }).then(
              () => committed.push(orderId),
              (error: unknown) => {
                if (!rollBack) throw error;
              },
            );
          }
        }),
      );

      await relayA; // the crash happened
      expect(crashed).toBeDefined();
      const crashedIds = crashed?.outboxIds ?? [];
      // The state a crash there leaves: jobs and ledger entries committed, outbox rows still there.
      expect(await ledgerIds()).toEqual(expect.arrayContaining([...crashedIds]));
      await poolA.close(); // the dead process's connections go away

      // Restart relay A on a fresh pool while B keeps running and producers keep producing.
      const restartedA = await t.connect({ max: 2 });
      const relayA2 = jobs.startRelay(restartedA.db as never, {
        batchSize: 7,
        pollIntervalMs: 5,
        onBatch: (batch) => void batches.push(batch),
        onError: (error) => {
          throw error;
        },
      });
      await producing;
      // Let both loops drain what is left, then stop them (each finishes its batch in flight).
      const deadline = Date.now() + 20_000;
      while ((await outboxIds()).length > 0 && Date.now() < deadline) await sleep(20);
      await Promise.all([relayB.stop(), relayA2.stop()]);
      expect(await jobs.relay(mysqlDb())).toBe(0); // nothing left over

      expect(committed).toHaveLength(TRANSACTIONS / 2);
      const jobsByOrder = await shipped();
      expect(jobsByOrder).toHaveLength(TRANSACTIONS / 2); // exactly the committed ones…
      expect(new Set(jobsByOrder)).toEqual(new Set(committed)); // …each once
      expect(await outboxIds()).toEqual([]);
      // The crashed batch was found in the ledger and skipped by whoever took it next. (More
      // skips are possible only if a batch was retried after a deadlock; each is still once.)
      const skipped = batches.reduce((sum, batch) => sum + batch.skipped, 0);
      expect(skipped).toBeGreaterThanOrEqual(crashedIds.length);
      // Both relays did real work.
      expect(batches.length).toBeGreaterThan(2);
      // Ledger entries are pruned once their outbox rows are gone.
      expect(await ledgerIds()).toEqual([]);
      console.log(
        `[relay] ${batches.length} batches, ${crashedIds.length} rows of the crashed batch skipped, ${jobsByOrder.length} jobs`,
      );
    });

    it('carries every job option through the outbox untouched', async () => {
      const runAt = new Date(Date.now() + 86_400_000);
      await atomic(mysqlDb(), (tx) =>
        jobs.enqueue(
          tx,
          'ship',
          { orderId: 9001 },
          {
            runAt,
            jobKey: 'ship:9001',
            queueName: 'shipping',
            priority: 3,
            maxAttempts: 4,
          },
        ),
      );
      expect(await jobs.relay(mysqlDb())).toBe(1);
      const job = (await queue.jobs('ship')).find((j) => j.payload.orderId === 9001);
      expect(job).toMatchObject({
        key: 'ship:9001',
        queue_name: 'shipping',
        priority: 3,
        max_attempts: 4,
      });
      expect(job?.run_at.getTime()).toBe(runAt.getTime());
    });

    it("writes a batch's jobs without add_job's NOTIFY and wakes the workers once, after the queue commit", async () => {
      const listener = await listen(queue.database.url);
      try {
        await listener.settle();
        await atomic(mysqlDb(), async (tx) => {
          for (const orderId of [9101, 9102, 9103]) await jobs.enqueue(tx, 'ship', { orderId });
        });
        expect(await jobs.relay(mysqlDb())).toBe(3);
        await jobs.close(); // the pool is the test's: this only waits for the owed wake-ups
        await listener.settle();
        // add_job would have notified once per job ('{"count":1}', which PostgreSQL folds into
        // one notification per transaction): one wake-up announcing all three is ours.
        expect(listener.received.map((w) => w.count)).toEqual([3]);
        expect((await shipped()).filter((id) => id > 9100).sort((a, b) => a - b)).toEqual([
          9101, 9102, 9103,
        ]);
      } finally {
        await listener.close();
      }
    });

    it('refuses to run inside a transaction', async () => {
      await atomic(mysqlDb(), async () => {
        await expect(jobs.relay(mysqlDb())).rejects.toThrow(/outside atomic/);
      });
    });
  },
  { kinds: ['mysql'] },
);
