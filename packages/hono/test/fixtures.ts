import type { DatabaseKind, TestConnection } from '@racefree/testkit';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { type SQL, sql } from 'drizzle-orm';

/** Creates the tables the request tests write to. */
export async function createTables(connection: TestConnection): Promise<void> {
  const serial = connection.kind === 'postgres' ? sql`serial` : sql`int auto_increment`;
  await executeStatement(
    connection.db,
    sql`create table notes (id ${serial} primary key, body varchar(200) not null)`,
  );
  await executeStatement(
    connection.db,
    sql`create table counters (id int primary key, n int not null)`,
  );
  await executeStatement(connection.db, sql`insert into counters (id, n) values (1, 0), (2, 0)`);
}

/** Empties the tables between tests. */
export async function resetTables(connection: TestConnection): Promise<void> {
  await executeStatement(connection.db, sql`delete from notes`);
  await executeStatement(connection.db, sql`update counters set n = 0`);
}

/** The note bodies, as another connection sees them (committed data only). */
export async function noteBodies(connection: TestConnection): Promise<string[]> {
  const rows = await executeRows<{ body: string }>(
    connection.db,
    sql`select body from notes order by id`,
  );
  return rows.map((row) => row.body);
}

/** The counters, as another connection sees them. */
export async function counters(connection: TestConnection): Promise<Record<number, number>> {
  const rows = await executeRows<{ id: number; n: number }>(
    connection.db,
    sql`select id, n from counters order by id`,
  );
  return Object.fromEntries(rows.map((row) => [Number(row.id), Number(row.n)]));
}

/**
 * A statement that fails with the server's own deadlock error, every time: PostgreSQL's
 * SQLSTATE 40P01, MySQL/MariaDB's errno 1213. For the "retries run out" path, where a real
 * deadlock on every attempt cannot be forced.
 */
export function alwaysDeadlocks(kind: DatabaseKind): SQL {
  return kind === 'postgres'
    ? sql`do $$ begin raise exception 'forced deadlock' using errcode = '40P01'; end $$`
    : sql`signal sqlstate '40001' set mysql_errno = 1213, message_text = 'forced deadlock'`;
}
