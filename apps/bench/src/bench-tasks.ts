import { z } from 'zod';

/** `@racefree/jobs`, loaded at run time (it may not be built yet). */
export type JobsModule = typeof import('@racefree/jobs');

/** The task schemas the jobs scenarios enqueue (plain object: `defineTasks` comes from the loaded module). */
export const BENCH_TASK_SCHEMAS = {
  send_welcome_email: z.object({ customerId: z.number().int() }),
  bench_latency: z.object({ sample: z.number().int() }),
};

/** The bench's tasks, declared with `@racefree/jobs`' `defineTasks`. */
export function benchTasks(jobs: JobsModule) {
  return jobs.defineTasks(BENCH_TASK_SCHEMAS);
}

/** The typed task map. */
export type BenchTasks = ReturnType<typeof benchTasks>;
