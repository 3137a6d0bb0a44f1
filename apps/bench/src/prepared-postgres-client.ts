import type postgres from 'postgres';

type Scoped = (...args: unknown[]) => Promise<unknown>;

/**
 * The experiment behind the proposed change: a postgres.js client whose `unsafe` statements
 * (the only kind Drizzle's postgres-js session sends) are prepared — named and cached per
 * connection by postgres.js, so after the first use a parameterized statement is one round trip
 * (Bind + Execute) instead of two (Parse + Describe, wait, Bind + Execute). Transactions and
 * savepoints hand Drizzle a scoped client; those are wrapped too.
 */
export function preparedPostgresClient(sql: postgres.Sql): postgres.Sql {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (property === 'unsafe' && typeof value === 'function') {
          return (query: string, args?: unknown[], options?: Record<string, unknown>) =>
            (value as Scoped).call(object, query, args ?? [], { ...options, prepare: true });
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
