import { atomic, type Database } from '@racefree/transactions';
import { describeDialects } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createJobs,
  defineTasks,
  installOutbox,
  JobNotAddedError,
  type JobOptions,
} from '../src/index.js';
import { createQueueDatabase, type QueueDatabase } from './support/queue-database.js';

const tasks = defineTasks({ ship: z.object({ orderId: z.number().int() }) });

const at = (minutes: number) => new Date(Date.UTC(2031, 0, 1, 0, minutes));

/**
 * A sequence that exercises every rule `add_jobs` has for keyed jobs: a key repeated in one
 * batch (the later job replaces the earlier), `preserve_run_at`, `unsafe_dedupe`, and modes
 * mixed within one batch.
 */
const SEQUENCE: [number, JobOptions][] = [
  [1, { runAt: at(1) }],
  [2, { runAt: at(2), jobKey: 'a' }],
  [3, { runAt: at(3), priority: 4 }],
  [4, { runAt: at(4), jobKey: 'a', queueName: 'q' }],
  [5, { runAt: at(5), jobKey: 'b', jobKeyMode: 'preserve_run_at' }],
  [6, { runAt: at(6), jobKey: 'b', jobKeyMode: 'preserve_run_at', maxAttempts: 3 }],
  [7, { runAt: at(7), jobKey: 'c', jobKeyMode: 'unsafe_dedupe' }],
  [8, { runAt: at(8), jobKey: 'c', jobKeyMode: 'unsafe_dedupe' }],
  [9, { runAt: at(9), jobKey: 'd', jobKeyMode: 'preserve_run_at' }],
  [10, { runAt: at(10), jobKey: 'd' }],
  [11, { runAt: at(11) }],
];

/** The relay's batched `add_jobs` against graphile-worker's own `add_job`, one call per job. */
describeDialects('relaying a batch with add_jobs', (t) => {
  let batched: QueueDatabase;
  let oneByOne: QueueDatabase;
  const outboxDb = (): Database => t.connection.db;

  beforeAll(async () => {
    [batched, oneByOne] = await Promise.all([
      createQueueDatabase({ max: 2 }),
      createQueueDatabase({ max: 2 }),
    ]);
    await installOutbox(outboxDb());
  });
  afterAll(async () => {
    await Promise.all([batched.close(), oneByOne.close()]);
  });

  const state = async (queue: QueueDatabase) =>
    (await queue.jobs('ship'))
      .map((job) => ({
        orderId: job.payload.orderId,
        key: job.key,
        runAt: job.run_at.toISOString(),
        priority: job.priority,
        maxAttempts: job.max_attempts,
        queueName: job.queue_name,
      }))
      .sort((a, b) => Number(a.orderId) - Number(b.orderId));

  it('leaves the queue exactly as add_job called once per job, in order, would', async () => {
    const viaRelay = createJobs({
      tasks,
      pool: batched.pool,
      delivery: 'outbox',
      relayAfterCommit: false,
    });
    const direct = createJobs({ tasks, pool: oneByOne.pool });
    await atomic(outboxDb(), async (tx) => {
      for (const [orderId, options] of SEQUENCE)
        await viaRelay.enqueue(tx, 'ship', { orderId }, options);
    });
    // Outside a transaction, enqueue is one add_job per job.
    for (const [orderId, options] of SEQUENCE)
      await direct.enqueue(outboxDb(), 'ship', { orderId }, options);
    expect(await viaRelay.relay(outboxDb(), { batchSize: 100 })).toBe(SEQUENCE.length);
    const expected = await state(oneByOne);
    // The oracle itself shows each rule at work.
    expect(expected.map((job) => job.orderId)).toEqual([1, 3, 4, 6, 7, 10, 11]);
    expect(expected.find((job) => job.key === 'b')?.runAt).toBe(at(5).toISOString());
    expect(await state(batched)).toEqual(expected);
  });

  // graphile/worker issue 580, as add_jobs shows it: a keyed job missing from the answer (the
  // existing job was locked between add_jobs' two statements). A wrapper schema reproduces the
  // symptom for real: its add_jobs drops the keyed jobs for its first calls, then delegates.
  it('adds a keyed job again when add_jobs leaves it out (issue 580), and gives up loudly', async () => {
    await batched.pool.query(`
      create schema flaky;
      create table flaky.calls (short_calls int not null, calls int not null default 0);
      insert into flaky.calls (short_calls) values (2);
      create type flaky.job_spec as (identifier text, payload json, queue_name text,
        run_at timestamptz, max_attempts smallint, job_key text, priority smallint, flags text[]);
      create function flaky.add_jobs(specs flaky.job_spec[], job_key_preserve_run_at boolean default false)
      returns table (key text) language plpgsql as $$
      declare
        v_calls int;
        v_short int;
      begin
        update flaky.calls set calls = calls + 1 returning calls, short_calls into v_calls, v_short;
        return query select added.key from graphile_worker.add_jobs(array(
          select s from json_populate_recordset(null::graphile_worker.job_spec, array_to_json(specs)) s
          where v_calls > v_short or s.job_key is null), job_key_preserve_run_at) as added;
      end $$;`);
    const flaky = createJobs({
      tasks,
      pool: batched.pool,
      schema: 'flaky',
      delivery: 'outbox',
      relayAfterCommit: false,
    });
    await atomic(outboxDb(), async (tx) => {
      await flaky.enqueue(tx, 'ship', { orderId: 580 }, { jobKey: 'contended', runAt: at(0) });
      await flaky.enqueue(tx, 'ship', { orderId: 581 }, { runAt: at(0) });
    });
    expect(await flaky.relay(outboxDb())).toBe(2);
    const { rows } = await batched.pool.query<{ calls: number }>('select calls from flaky.calls');
    expect(rows[0]?.calls).toBe(3);
    const added = (await batched.jobs('ship')).filter((job) => Number(job.payload.orderId) >= 580);
    expect(added.map((job) => [job.payload.orderId, job.key])).toEqual([
      [581, null],
      [580, 'contended'],
    ]);

    // Never added: the batch fails whole and stays in the outbox for the next relay.
    await batched.pool.query('update flaky.calls set short_calls = 1000, calls = 0');
    await atomic(outboxDb(), (tx) =>
      flaky.enqueue(tx, 'ship', { orderId: 582 }, { jobKey: 'never', runAt: at(0) }),
    );
    await expect(flaky.relay(outboxDb())).rejects.toBeInstanceOf(JobNotAddedError);
    expect((await batched.jobs('ship')).filter((job) => job.key === 'never')).toEqual([]);
    const [left] = await t.connection.query<{ n: number | string }>(
      'select count(*) as n from racefree_outbox',
    );
    expect(Number(left?.n)).toBe(1);
    await batched.pool.query('update flaky.calls set short_calls = 0');
    expect(await flaky.relay(outboxDb())).toBe(1);
  });
});
