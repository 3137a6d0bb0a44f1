// The README's quick start: tasks, the jobs object, an enqueue that commits with the data,
// and the worker. Run against any PostgreSQL: the test runs every function here.
// #region setup
import { createJobs, defineTasks } from '@racefree/jobs';
import { managed } from '@racefree/transactions';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { z } from 'zod';

export const tasks = defineTasks({
  send_welcome_email: z.object({ userId: z.number().int() }),
});
// #endregion setup
import { type AnyPgDatabase, type Managed, onCommit } from '@racefree/transactions';
import { run } from 'graphile-worker';
import type { Jobs } from '@racefree/jobs';
import { type Mailer, sentEmails, users } from './schema.js';

/** Opens the example's database and jobs (the README shows the lines inside). */
export async function openExample(connectionString: string) {
  // #region setup
  const db = managed(drizzle({ client: new pg.Pool({ connectionString }) }));
  const jobs = createJobs({ tasks, connectionString, db });
  await jobs.migrate(); // graphile-worker's schema, once at start-up
  // #endregion setup
  return { db, jobs };
}

/** Signs a user up: the welcome job exists if and only if the user does. */
export async function signUp(db: Managed<AnyPgDatabase>, jobs: Jobs<typeof tasks>, email: string) {
  // #region enqueue
  const user = await db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values({ email }).returning();
    if (!user) throw new Error('no row returned');
    await jobs.enqueue(tx, 'send_welcome_email', { userId: user.id });
    return user;
  }); // committed: the job is in the queue; rolled back: it never was
  // #endregion enqueue
  return user;
}

/** Starts the worker that sends the welcome emails. */
export async function startWorker(db: AnyPgDatabase, jobs: Jobs<typeof tasks>, mailer: Mailer) {
  // #region worker
  const taskList = jobs.taskList(
    {
      send_welcome_email: async ({ userId }, { tx }) => {
        // Delivery is at-least-once: a second run of this job finds the row and sends nothing.
        const [first] = await tx
          .insert(sentEmails)
          .values({ userId })
          .onConflictDoNothing()
          .returning();
        if (first) await onCommit(() => mailer.welcome(userId));
      },
    },
    { atomic: db }, // each run is one transaction: a failed attempt leaves nothing behind
  );
  const runner = await run({ pgPool: jobs.pgPool, taskList, concurrency: 4 });
  // #endregion worker
  return runner;
}
