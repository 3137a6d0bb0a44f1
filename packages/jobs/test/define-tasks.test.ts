import { type Database, InvalidArgumentError } from '@racefree/transactions';
import type { JobHelpers, TaskList } from 'graphile-worker';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type AtomicJobHelpers,
  createJobs,
  defineTasks,
  type EnqueueResult,
  type Jobs,
  type PayloadInput,
  type PayloadOutput,
  type TaskName,
} from '../src/index.js';

const tasks = defineTasks({
  welcome: z.object({ userId: z.number().int() }),
  report: z.object({ day: z.string().transform((day) => new Date(day)) }),
});

describe('defineTasks', () => {
  it('refuses something that is not a Standard Schema, and over-long names', () => {
    expect(() => defineTasks({ bad: { parse: () => 1 } as never })).toThrow(InvalidArgumentError);
    expect(() => defineTasks({ ['x'.repeat(129)]: z.object({}) })).toThrow(/1 to 128/);
  });

  it('types names and payloads at enqueue and in handlers (input in, output out)', () => {
    type T = typeof tasks;
    expectTypeOf<TaskName<T>>().toEqualTypeOf<'welcome' | 'report'>();
    expectTypeOf<PayloadInput<T, 'report'>>().toEqualTypeOf<{ day: string }>();
    expectTypeOf<PayloadOutput<T, 'report'>>().toEqualTypeOf<{ day: Date }>();
    expectTypeOf<Jobs<T>['enqueue']>().toBeCallableWith({} as Database, 'welcome', { userId: 1 });
    expectTypeOf<ReturnType<Jobs<T>['enqueue']>>().toEqualTypeOf<Promise<EnqueueResult>>();
    // @ts-expect-error — unknown task name
    expectTypeOf<Jobs<T>['enqueue']>().toBeCallableWith({} as Database, 'welcom', { userId: 1 });
    // @ts-expect-error — wrong payload shape
    expectTypeOf<Jobs<T>['enqueue']>().toBeCallableWith({} as Database, 'welcome', { userId: '1' });
    expectTypeOf<Jobs<T>['enqueueOnCommit']>().toBeCallableWith('report', { day: '2024-01-01' });
  });

  it('types handlers from the schema output, with tx when atomic', () => {
    const jobs = createJobs({ tasks, connectionString: 'postgres://unused@127.0.0.1:1/none' });
    const list = jobs.taskList({
      welcome: (payload, helpers) => {
        expectTypeOf(payload).toEqualTypeOf<{ userId: number }>();
        expectTypeOf(helpers).toEqualTypeOf<JobHelpers>();
      },
      report: ({ day }) => {
        expectTypeOf(day).toEqualTypeOf<Date>();
      },
    });
    expectTypeOf(list).toEqualTypeOf<TaskList>();
    expectTypeOf<AtomicJobHelpers<Database>>().toHaveProperty('tx');
    expect(Object.keys(list)).toEqual(['welcome', 'report']);
    return jobs.close();
  });

  it('checks job options before any SQL is sent', async () => {
    const jobs = createJobs({ tasks, connectionString: 'postgres://unused@127.0.0.1:1/none' });
    const db = {} as Database;
    await expect(jobs.enqueue(db, 'welcome', { userId: 1 })).rejects.toThrow(/Drizzle database/);
    // The queue is unreachable (port 1): any SQL would fail with a connection error instead.
    const badOptions = [
      { runAt: new Date(), delayMs: 5 },
      { runAt: new Date(Number.NaN) },
      { delayMs: -1 },
      { jobKeyMode: 'replace' as const },
      { jobKey: '' },
      { queueName: '' },
      { priority: 1.5 },
      { maxAttempts: 0 },
    ];
    for (const options of badOptions) {
      await expect(
        jobs.enqueueOnCommit('welcome', { userId: 1 }, options),
        JSON.stringify(options),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await jobs.close();
    expect(() => createJobs({ tasks } as never)).toThrow(
      /exactly one of connectionString and pool/,
    );
    const url = 'postgres://unused@127.0.0.1:1/none';
    expect(() => createJobs({ tasks, connectionString: url, delivery: 'later' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      createJobs({ tasks, connectionString: url, relayAfterCommit: 'yes' as never }),
    ).toThrow(/relayAfterCommit/);
  });
});
