import type postgres from 'postgres';
import type { MysqlDatabase, MysqlServer } from './mysql-server.js';
import type { PostgresDatabase, PostgresServer } from './postgres-server.js';

/** Where the bookstore's data lives in a scenario. */
export type DatabaseKind = 'postgres' | 'mysql';

/** How the table names each database kind. */
export const DATABASE_LABEL: Record<DatabaseKind, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MariaDB',
};

/** Admin access to the bookstore's database, for checks (same SQL text on both servers). */
export interface DataAccess {
  rows<T extends Record<string, unknown>>(text: string): Promise<T[]>;
}

/**
 * The fresh databases of one scenario: the bookstore's (PostgreSQL, or MariaDB with the job
 * queue on a fresh PostgreSQL database) and admin clients for setting faults up and checking.
 */
export interface Deployment {
  kind: DatabaseKind;
  /** DATABASE_URL for the apps. */
  databaseUrl: string;
  /** QUEUE_DATABASE_URL for the apps (the same database on PostgreSQL). */
  queueUrl: string;
  /** The bookstore's data, admin access. */
  data: DataAccess;
  /** The queue's database, superuser client. */
  queue: postgres.Sql;
  /** The MariaDB database, when the data lives there. */
  mysql?: MysqlDatabase;
  /** Drops every database of the scenario. */
  drop(): Promise<void>;
}

/** The servers a run uses; `mysql` is undefined when MariaDB is skipped. */
export interface Servers {
  postgres: PostgresServer;
  mysql: MysqlServer | undefined;
}

/** Creates the fresh databases of one scenario. */
export async function createDeployment(
  servers: Servers,
  kind: DatabaseKind,
  label: string,
): Promise<Deployment> {
  const queue: PostgresDatabase = await servers.postgres.createDatabase(label);
  if (kind === 'postgres') {
    return {
      kind,
      databaseUrl: queue.url,
      queueUrl: queue.url,
      data: { rows: (text) => queue.sql.unsafe(text) as Promise<never> },
      queue: queue.sql,
      drop: () => queue.drop(),
    };
  }
  if (!servers.mysql) throw new Error('MariaDB is not available in this run');
  const data = await servers.mysql.createDatabase(label);
  return {
    kind,
    databaseUrl: data.url,
    queueUrl: queue.url,
    data: {
      async rows(text) {
        const [rows] = await data.pool.query(text);
        return rows as never;
      },
    },
    queue: queue.sql,
    mysql: data,
    drop: async () => {
      await Promise.allSettled([data.drop(), queue.drop()]);
    },
  };
}
