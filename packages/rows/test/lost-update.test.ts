import { atomic } from '@racefree/transactions';
import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { eq } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { refresh, selectForUpdateOrCreate } from '../src/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

const START = 1000;
const BUYERS = 200;

type Updatable = {
  update(t: unknown): { set(v: unknown): { where(c: unknown): Promise<unknown> } };
};

describeDialects('lost updates', (t) => {
  let T: Tables;
  let pool: TestConnection;
  const quantity = async () =>
    Number(
      (
        await t.connection.query<{ q: number }>(
          "select quantity as q from counters where name = 'stock'",
        )
      )[0]?.q,
    );
  const write = (tx: unknown, id: number, q: number) =>
    (tx as Updatable).update(T.counters).set({ quantity: q }).where(eq(T.counters.id, id));

  beforeAll(async () => {
    T = await createTables(t.connection);
    pool = await t.connect({ max: 16 });
  });
  beforeEach(async () => {
    await truncateAll(t.connection);
    await t.connection.query(`insert into counters (name, quantity) values ('stock', ${START})`);
  });

  it('200 concurrent decrements through selectForUpdateOrCreate keep every one', async () => {
    const outcome = await race(BUYERS, () =>
      atomic(pool.db, async (tx) => {
        const { row } = await selectForUpdateOrCreate(tx, T.counters, {
          where: { name: 'stock' },
          defaults: { quantity: 0 },
        });
        await write(tx, row.id, row.quantity - 1);
      }),
    );
    expect(outcome.errors).toEqual([]);
    expect(await quantity()).toBe(START - BUYERS);
  });

  it('200 concurrent decrements of a stale in-memory row through refresh(…, { lock: update }) keep every one', async () => {
    const [stale] = await (
      pool.db as unknown as {
        select(): { from(t: unknown): Promise<{ id: number; name: string; quantity: number }[]> };
      }
    )
      .select()
      .from(T.counters);
    const outcome = await race(BUYERS, () =>
      atomic(pool.db, async (tx) => {
        const fresh = await refresh(tx, T.counters, stale as never, { lock: 'update' });
        await write(tx, fresh.id, fresh.quantity - 1);
      }),
    );
    expect(outcome.errors).toEqual([]);
    expect(await quantity()).toBe(START - BUYERS);
  });

  it('control: read-modify-write without a lock loses updates', async () => {
    await race(BUYERS, () =>
      atomic(pool.db, async (tx) => {
        const [row] = await (
          tx as unknown as {
            select(): { from(t: unknown): Promise<{ id: number; quantity: number }[]> };
          }
        )
          .select()
          .from(T.counters);
        await write(tx, row?.id as number, (row?.quantity as number) - 1);
      }).catch(() => undefined),
    );
    const lost = (await quantity()) - (START - BUYERS);
    console.info(`[control] naive read-modify-write: ${lost} of ${BUYERS} decrements lost`);
    expect(lost).toBeGreaterThan(0);
  });
});
