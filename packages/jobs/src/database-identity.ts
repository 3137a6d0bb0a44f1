import { sql } from 'drizzle-orm';
import type { QueueExecutor } from './add-job.js';

/** Which PostgreSQL database a connection is on, independent of the host name used to reach it. */
export interface DatabaseIdentity {
  /** The cluster's system identifier (unique per initdb) and the database name. */
  key: string;
  /** For messages: `database "app" (cluster 7234…)`. */
  description: string;
}

/**
 * `pg_control_system().system_identifier` is fixed when the cluster is created, so two
 * connection strings naming one database through different hosts, ports or sockets agree,
 * and two clusters never do. Executable by every role.
 */
const IDENTITY_QUERY = sql`select (select system_identifier from pg_control_system())::text as cluster, current_database() as database`;

/** Probes the identity of the database `execute` runs on (one small read; safe in a transaction). */
export async function probeIdentity(execute: QueueExecutor): Promise<DatabaseIdentity> {
  const [row] = await execute(IDENTITY_QUERY);
  const cluster = String(row?.cluster);
  const database = String(row?.database);
  return {
    key: `${cluster}/${database}`,
    description: `database "${database}" (cluster ${cluster})`,
  };
}
