import { atomic, type Database, isTransient } from '@racefree/transactions';
import { describeDialects } from '@racefree/testkit';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { beforeAll, expect, it } from 'vitest';
import { getOrCreate } from '../src/index.js';

const flaky = pgTable('flaky_tags', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  hits: integer('hits').notNull().default(0),
});

// A BEFORE INSERT trigger raises a serialization failure (40001) for the first
// `fail` inserts — counted by a sequence, which the failed statement's rollback does not undo —
// so the retry of each create path is exercised for real: outside a transaction the call re-runs
// (up to 5 attempts) and creates exactly one row; inside one the failure propagates.
describeDialects(
  'getOrCreate re-runs a serialization failure outside a transaction',
  (t) => {
    const db = () => t.connection.db as Database;
    const query = <R = Record<string, unknown>>(text: string, params: unknown[] = []) =>
      t.connection.query<R>(text, params);

    beforeAll(async () => {
      await query(`
        create table flaky_tags (id serial primary key, name text not null unique, hits integer not null default 0);
        create table flaky_limit (fail integer not null);
        insert into flaky_limit values (0);
        create sequence flaky_inserts;
        create function flaky_insert() returns trigger language plpgsql as $$
        begin
          if nextval('flaky_inserts') <= (select fail from flaky_limit) then
            raise exception 'injected serialization failure' using errcode = '40001';
          end if;
          return new;
        end $$;
        create trigger flaky_insert before insert on flaky_tags for each row execute function flaky_insert();
      `);
    });

    /** Makes the next `fail` inserts fail; returns how many inserts were tried since. */
    async function failNext(fail: number): Promise<() => Promise<number>> {
      await query('delete from flaky_tags');
      await query('update flaky_limit set fail = $1', [fail]);
      await query("select setval('flaky_inserts', 1, false)");
      return async () => {
        const [row] = await query<{ n: string }>(
          'select case when is_called then last_value else 0 end as n from flaky_inserts',
        );
        return Number(row?.n);
      };
    }

    const rows = async (name: string) =>
      Number(
        (
          await query<{ n: string }>('select count(*) as n from flaky_tags where name = $1', [name])
        )[0]?.n,
      );

    const paths = [
      { path: "prefer 'get': the create after a miss", prefer: 'get' as const },
      { path: "prefer 'create': the insert first", prefer: 'create' as const },
    ];

    it.each(paths)('$path: two failures, then created once', async ({ prefer }) => {
      const tried = await failNext(2);
      const result = await getOrCreate(db(), flaky, {
        where: { name: 'retried' },
        defaults: { hits: 3 },
        prefer,
      });
      expect(result.created).toBe(true);
      expect(result.row).toMatchObject({ name: 'retried', hits: 3 });
      expect(await tried()).toBe(3);
      expect(await rows('retried')).toBe(1);
    });

    it.each(paths)('$path: gives up after 5 attempts', async ({ prefer }) => {
      const tried = await failNext(100);
      const error = await getOrCreate(db(), flaky, { where: { name: 'doomed' }, prefer }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTransient(error)).toBe(true);
      expect(await tried()).toBe(5);
      expect(await rows('doomed')).toBe(0);
    });

    it.each(paths)('$path: inside a transaction, the failure propagates', async ({ prefer }) => {
      const tried = await failNext(1);
      const error = await atomic(db(), (tx) =>
        getOrCreate(tx, flaky, { where: { name: 'inside' }, prefer }),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTransient(error)).toBe(true);
      expect(await tried()).toBe(1);
      expect(await rows('inside')).toBe(0);
    });
  },
  { kinds: ['postgres'] },
);
