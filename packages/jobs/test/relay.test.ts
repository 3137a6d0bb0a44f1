import { setTimeout as sleep } from 'node:timers/promises';
import { atomic, type Database } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { describeDialects } from '@racefree/testkit';
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
  type RelayFaults,
} from '../src/index.js';
import { listen } from './support/listen.js';
import { createQueueDatabase, type QueueDatabase } from './support/queue-database.js';

const tasks = defineTasks({ ship: z.object({ orderId: z.number().int() }) });

const TRANSACTIONS = 120;
const PRODUCERS = 6;

/** Thrown by a fault-injection point: the relay dies there. */
class SimulatedCrash extends Error {}

/** Where a relay can die, and what a crash there leaves behind. */
const CRASH_POINTS: {
  point: keyof RelayFaults;
  /** The crashed batch's ids are in the ledger (its queue transaction committed). */
  inLedger: boolean;
}[] = [
  { point: 'beforeQueueCommit', inLedger: false },
  { point: 'afterQueueCommit', inLedger: true },
  { point: 'beforeOutboxCommit', inLedger: true },
];

/**
 * One relay, one set of crash tests, for every outbox: MySQL/MariaDB's, and PostgreSQL's
 * (`delivery: 'outbox'`) on each PostgreSQL driver. The queue is a database of its own.
 */
describeDialects('outbox relay', (t) => {
  let queue: QueueDatabase;
  let jobs: Jobs<typeof tasks>;
  const outboxDb = (): Database => t.connection.db;
  const engine = t.kind === 'mysql' ? ' engine=InnoDB' : '';

  beforeAll(async () => {
    queue = await createQueueDatabase({ max: 6 });
    // The test decides when relays run: no after-commit passes.
    jobs = createJobs({ tasks, pool: queue.pool, delivery: 'outbox', relayAfterCommit: false });
    await t.connection.query(
      `create table orders (id int primary key, note varchar(20) not null)${engine}`,
    );
  });
  afterAll(async () => {
    await jobs.close();
    await queue.close();
  });

  const shipped = async (from = 0, to = Number.MAX_SAFE_INTEGER) =>
    (await queue.jobs('ship'))
      .map((job) => Number(job.payload.orderId))
      .filter((id) => id >= from && id < to);
  const outboxIds = async () =>
    (
      await t.connection.query<{ id: number | string }>(
        'select id from racefree_outbox order by id',
      )
    ).map((row) => String(row.id));
  const ledgerIds = async () =>
    (
      await queue.pool.query<{ id: string }>(
        'select outbox_id::text as id from racefree_jobs.outbox_ledger order by outbox_id',
      )
    ).rows.map((row) => row.id);
  const enqueueOrder = (orderId: number, options = {}) =>
    atomic(outboxDb(), (tx) => jobs.enqueue(tx, 'ship', { orderId }, options));

  it('names the missing outbox table and how to create it', async () => {
    const error = await enqueueOrder(0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboxMissingError);
    expect((error as Error).message).toMatch(t.kind === 'mysql' ? /outboxTable/ : /pgOutboxTable/);
    await expect(jobs.relay(outboxDb())).rejects.toBeInstanceOf(OutboxMissingError);
    await installOutbox(outboxDb());
    // Concurrent installs (several processes starting at once) do not collide.
    await Promise.all([installOutbox(outboxDb()), installOutbox(outboxDb())]);
  });

  for (const [index, { point, inLedger }] of CRASH_POINTS.entries()) {
    it(`${TRANSACTIONS} transactions, half rolled back; two relays, one killed at ${point} → each committed job exactly once`, async () => {
      const first = (index + 1) * 10_000;
      const last = first + TRANSACTIONS;
      // Each relay has its own pool, as separate processes would.
      const poolA = await t.connect({ max: 2 });
      const poolB = await t.connect({ max: 2 });
      const committed: number[] = [];
      const batches: RelayBatch[] = [];
      let crashed: RelayBatch | undefined;
      let ledgerAtCrash = new Set<string>();

      // Relay B: a loop, as the worker app runs it.
      const relayB = jobs.startRelay(poolB.db, {
        batchSize: 7,
        pollIntervalMs: 5,
        onBatch: (batch) => void batches.push(batch),
        onError: (error) => {
          throw error;
        },
      });
      // Relay A: dies at the fault-injection point on its first non-empty batch, then restarts.
      const relayA = (async () => {
        for (;;) {
          try {
            await jobs.relay(poolA.db, {
              batchSize: 7,
              onBatch: (batch) => void batches.push(batch),
              faults: {
                [point]: async (batch: RelayBatch) => {
                  crashed = batch;
                  // The ledger as another connection sees it at the moment of the crash: read
                  // later, relay B may already have relayed the rows the crash left behind.
                  ledgerAtCrash = new Set(await ledgerIds());
                  throw new SimulatedCrash(`killed at ${point}`);
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

      let next = first;
      const producing = Promise.all(
        Array.from({ length: PRODUCERS }, async () => {
          while (next < last) {
            const orderId = next++;
            const rollBack = orderId % 2 === 0;
            await atomic(outboxDb(), async (tx) => {
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
      const crashedIds = crashed?.outboxIds ?? [];
      expect(crashedIds.length).toBeGreaterThan(0);
      // What a crash there leaves: the ledger entries committed or not, the outbox rows still there.
      expect(crashedIds.every((id) => ledgerAtCrash.has(id))).toBe(inLedger);
      await poolA.close(); // the dead process's connections go away

      // Restart relay A on a fresh pool while B keeps running and producers keep producing.
      const restartedA = await t.connect({ max: 2 });
      const relayA2 = jobs.startRelay(restartedA.db, {
        batchSize: 7,
        pollIntervalMs: 5,
        onBatch: (batch) => void batches.push(batch),
        onError: (error) => {
          throw error;
        },
      });
      await producing;
      // Let both loops drain what is left (bounded), then stop them mid-flight-safe.
      const deadline = Date.now() + 20_000;
      while ((await outboxIds()).length > 0 && Date.now() < deadline) await sleep(20);
      await Promise.all([relayB.stop(), relayA2.stop()]);
      expect(await jobs.relay(outboxDb())).toBe(0); // nothing left over

      expect(committed).toHaveLength(TRANSACTIONS / 2);
      const jobsByOrder = await shipped(first, last);
      expect(jobsByOrder).toHaveLength(TRANSACTIONS / 2); // exactly the committed ones…
      expect(new Set(jobsByOrder)).toEqual(new Set(committed)); // …each once
      expect(await outboxIds()).toEqual([]);
      // A batch whose queue commit happened was found in the ledger and skipped by whoever
      // took it next. (More skips are possible only after a deadlock retry; each still once.)
      const skipped = batches.reduce((sum, batch) => sum + batch.skipped, 0);
      if (inLedger) expect(skipped).toBeGreaterThanOrEqual(crashedIds.length);
      expect(batches.length).toBeGreaterThan(2);
      // Ledger entries are pruned once their outbox rows are gone.
      expect(await ledgerIds()).toEqual([]);
    });
  }

  it('adds a batch with one add_jobs: one statement and one wake-up for all its jobs', async () => {
    const listener = await listen(queue.database.url);
    try {
      await listener.settle();
      await atomic(outboxDb(), async (tx) => {
        for (const orderId of [9101, 9102, 9103, 9104, 9105])
          await jobs.enqueue(tx, 'ship', { orderId });
      });
      expect(await jobs.relay(outboxDb(), { batchSize: 100 })).toBe(5);
      await listener.settle();
      // add_job would have sent five notifications; add_jobs sends one counting them all.
      expect(listener.counts).toEqual([5]);
      expect((await shipped(9100, 9200)).sort((a, b) => a - b)).toEqual([
        9101, 9102, 9103, 9104, 9105,
      ]);
    } finally {
      await listener.close();
    }
  });

  it('refuses to run inside a transaction', async () => {
    await atomic(outboxDb(), async () => {
      await expect(jobs.relay(outboxDb())).rejects.toThrow(/outside atomic/);
    });
  });
});
