import { describeDialects } from '@racefree/testkit';
import { DrizzleQueryError, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { atomic, type Database, executeRows } from '../src/index.js';
import { errorOf } from './support/helpers.js';

// executeRows(db, query, map) hands the rows to `map` in the same step and resolves with what
// it returns: the rows as without `map`, on either driver, in or out of a transaction; a
// failing statement never reaches `map`, and a throwing `map` rejects the call. With
// `recover`, a failing statement resolves with what `recover` makes of its error (the
// DrizzleQueryError callers otherwise see); a throwing `map` still rejects.
describeDialects('executeRows with a map', (t) => {
  const db = () => t.connection.db as Database;

  it('resolves with map(rows), the rows being those executeRows returns without it', async () => {
    const query = sql`select 1 as n union all select 2`;
    const plain = await executeRows<{ n: number | string }>(db(), query);
    let seen: unknown;
    const mapped = await executeRows(db(), query, (rows: { n: number | string }[]) => {
      seen = rows;
      return rows.map((r) => Number(r.n) * 10);
    });
    expect(mapped).toEqual([10, 20]);
    expect(seen).toEqual(plain);
    const inside = await atomic(db(), (tx) =>
      executeRows(tx, query, (rows: unknown[]) => rows.length),
    );
    expect(inside).toBe(2);
  });

  it('never calls map for a failing statement, and rejects when map throws', async () => {
    let calls = 0;
    const failed = await errorOf(
      executeRows(db(), sql`select * from no_such_table_here`, () => ++calls),
    );
    expect(failed).toBeInstanceOf(DrizzleQueryError);
    expect(calls).toBe(0);
    const thrown = await errorOf(
      executeRows(db(), sql`select 1 as n`, () => {
        throw new Error('map failed');
      }),
    );
    expect((thrown as Error).message).toBe('map failed');
  });

  it('hands a failed statement to recover as the DrizzleQueryError it would reject with', async () => {
    const bad = sql`select * from no_such_table_here`;
    const plain = await errorOf(executeRows(db(), bad));
    let maps = 0;
    let seen: unknown;
    const recovered = await executeRows(
      db(),
      bad,
      () => ++maps,
      (error) => {
        seen = error;
        return -1;
      },
    );
    expect(recovered).toBe(-1);
    expect(maps).toBe(0);
    expect(seen).toBeInstanceOf(DrizzleQueryError);
    expect((seen as DrizzleQueryError).query).toBe((plain as DrizzleQueryError).query);
    expect((seen as Error).cause).toBeInstanceOf(Error);
    expect(String((seen as Error).cause)).toBe(String((plain as Error).cause));
    // Inside a transaction too; the failed statement aborts it, as any failure would.
    const inside = await errorOf(
      atomic(db(), async (tx) => {
        const value = await executeRows(tx, bad, undefined, () => 'recovered');
        expect(value).toBe('recovered');
        throw new Error('rolled back on purpose');
      }),
    );
    expect((inside as Error).message).toBe('rolled back on purpose');
  });

  it('does not hand an error map throws to recover', async () => {
    let recovers = 0;
    const thrown = await errorOf(
      executeRows(
        db(),
        sql`select 1 as n`,
        () => {
          throw new Error('map failed');
        },
        () => ++recovers,
      ),
    );
    expect((thrown as Error).message).toBe('map failed');
    expect(recovers).toBe(0);
  });
});
