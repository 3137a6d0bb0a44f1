import type { AnyPgDatabase, Managed } from '@racefree/transactions';
// #region outbox
import { createJobs, installOutbox } from '@racefree/jobs';
// #endregion outbox
import { tasks } from './quick-start.js';

/** The quick start with the outbox delivery (the README shows the lines inside). */
export async function openOutbox(db: Managed<AnyPgDatabase>, connectionString: string) {
  // #region outbox
  const jobs = createJobs({ tasks, connectionString, db, delivery: 'outbox' });
  await installOutbox(db); // the racefree_outbox table, in db's database
  const relay = jobs.startRelay(db); // one process: relays what a crash left behind
  // #endregion outbox
  return { jobs, relay };
}
