import type { Deployment } from './deployment.js';

/**
 * How many sessions wait for a lock on `sent_emails` in the bookstore's database: welcome-email
 * handlers frozen mid-job by a lock this program holds (PostgreSQL: lock waits in `pg_locks`;
 * MariaDB: threads waiting for the table's metadata lock).
 */
export async function countBlockedHandlers(deployment: Deployment): Promise<number> {
  if (deployment.kind === 'mysql') {
    const rows = await deployment.data.rows<{ n: unknown }>(
      `select count(*) as n from information_schema.processlist
        where db = database() and state = 'Waiting for table metadata lock'`,
    );
    return Number(rows[0]?.n);
  }
  const [row] = await deployment.queue<{ n: string }[]>`
    select count(*)::text as n from pg_locks
     where not granted and relation = 'sent_emails'::regclass
       and database = (select oid from pg_database where datname = current_database())`;
  return Number(row?.n);
}
