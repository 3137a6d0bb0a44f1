import type pg from 'pg';

/**
 * `schema`, checked to be a plain identifier: graphile-worker's schema is written into the SQL
 * text (an identifier cannot be a bound parameter).
 */
export function requireSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  return schema;
}

/**
 * Wakes idle graphile-worker workers now rather than at their next poll, with graphile-worker's
 * own "jobs were added" notification: after jobs were unlocked, they are runnable again.
 */
export async function wakeWorkers(db: pg.Pool | pg.ClientBase, count: number): Promise<void> {
  await db.query(`select pg_notify('jobs:insert', $1)`, [
    JSON.stringify({ r: Math.random(), count }),
  ]);
}
