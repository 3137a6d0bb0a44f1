import { runQuery } from '@racefree/transactions/internal';
import type { Column, SQL } from 'drizzle-orm';
import type { Database } from '@racefree/transactions';
import type { RowContext } from '../context.js';
import type { AnyTable } from '../table-meta.js';
import type { PreparableQuery, Row, SelectRequest } from './rows-dialect.js';

/** What a read needs of Drizzle's select builder, alike on PostgreSQL and MySQL. */
interface DynamicSelect extends PreparableQuery {
  orderBy(...columns: Column[]): DynamicSelect;
  limit(limit: number): DynamicSelect;
  for(strength: string, config?: { noWait: true } | { skipLocked: true }): DynamicSelect;
}
interface SelectSource {
  select(fields?: Record<string, Column>): {
    from(table: unknown): { where(where: SQL): { $dynamic(): DynamicSelect } };
  };
}

/**
 * A read through Drizzle's select builder, on either family: Drizzle renders it (the database's
 * `casing` included) and maps its rows to property keys. `strength` is the builder's name for
 * the lock the request asks for; the caller has checked the server can take it.
 */
export async function builderSelect(
  ctx: RowContext,
  request: SelectRequest,
  strength: string | undefined,
): Promise<Row[]> {
  const { columns } = request;
  const fields = columns
    ? Object.fromEntries(columns.map((key) => [key, ctx.meta.columns.get(key) as Column]))
    : undefined;
  let query = selectQuery(ctx.db, ctx.meta.table, request.where, fields);
  if (request.orderBy) query = query.orderBy(...request.orderBy);
  if (request.limit !== undefined) query = query.limit(request.limit);
  const lock = request.lock;
  if (lock && strength)
    query = query.for(
      strength,
      lock.noWait ? { noWait: true } : lock.skipLocked ? { skipLocked: true } : undefined,
    );
  return (await runQuery(ctx.db, query)) as Row[];
}

/**
 * Drizzle's `select(fields).from(table).where(where)` on either family, open to more clauses:
 * the reads above, and the read by key the statement cache prepares.
 */
export function selectQuery(
  db: Database,
  table: AnyTable,
  where: SQL,
  fields?: Record<string, Column>,
): DynamicSelect {
  return (db as unknown as SelectSource).select(fields).from(table).where(where).$dynamic();
}
