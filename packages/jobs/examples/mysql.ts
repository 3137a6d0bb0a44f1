// #region mysql
import { createJobs, installOutbox } from '@racefree/jobs';
import { managed } from '@racefree/transactions';
import { drizzle } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
// #endregion mysql
import { tasks } from './quick-start.js';
import { mysqlUsers } from './schema.js';

/** The quick start on MySQL/MariaDB, the queue in PostgreSQL (the README shows the lines inside). */
export async function signUpOnMysql(mysqlUrl: string, queueUrl: string, email: string) {
  // #region mysql
  const mysqlDb = managed(drizzle({ client: mysql.createPool(mysqlUrl) }));
  const jobs = createJobs({ tasks, connectionString: queueUrl });
  await installOutbox(mysqlDb);

  await mysqlDb.transaction(async (tx) => {
    const [{ insertId }] = await tx.insert(mysqlUsers).values({ email });
    await jobs.enqueue(tx, 'send_welcome_email', { userId: insertId }); // an outbox row
  });
  const relay = jobs.startRelay(mysqlDb); // moves it into the queue, exactly once
  // #endregion mysql
  return { mysqlDb, jobs, relay };
}
