import type postgres from 'postgres';
import type { StatementCounter } from './statement-counter.js';

type Scoped = (...args: unknown[]) => Promise<unknown>;

/**
 * `sql` as Drizzle sees it, counting the round trips the statement hook cannot see: postgres.js
 * sends a parameterized statement that is not (yet) prepared on its connection as Parse +
 * Describe, waits for the parameter types, then Bind + Execute — two round trips; a prepared
 * one it has seen before is one. Drizzle's own queries are unprepared; racefree's are prepared
 * (`executeRows`). Every client has one connection, so "seen before" is per client.
 * Transactions and savepoints hand Drizzle a scoped client: those are counted too.
 */
export function countingPostgresClient(sql: postgres.Sql, counter: StatementCounter): postgres.Sql {
  const prepared = new Set<string>();
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (property === 'unsafe' && typeof value === 'function') {
          return (query: string, args?: unknown[], options?: { prepare?: boolean }) => {
            if (args && args.length > 0) {
              if (!options?.prepare || !prepared.has(query)) counter.describes += 1;
              if (options?.prepare) prepared.add(query);
            }
            return (value as Scoped).call(object, query, args, options);
          };
        }
        if ((property === 'begin' || property === 'savepoint') && typeof value === 'function') {
          return (...args: unknown[]) => {
            const fn = args.pop() as (scoped: object) => unknown;
            return (value as Scoped).call(object, ...args, (scoped: object) => fn(wrap(scoped)));
          };
        }
        return typeof value === 'function' ? (value as Scoped).bind(object) : value;
      },
    });
  return wrap(sql);
}
