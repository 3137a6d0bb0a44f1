import type { AnyPgDatabase, Managed } from '@racefree/transactions';
import {
  getOrCreate,
  getOrCreateMany,
  lockRows,
  refresh,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '@racefree/rows';
import { eq } from 'drizzle-orm';
import { accounts, inventory, settings, tags } from './schema.js';

type Db = Managed<AnyPgDatabase>;

/** getOrCreate: the tag, created once however many callers ask at the same time. */
export async function tagNamed(db: Db, name: string) {
  // #region get-or-create
  const { row: tag, created } = await getOrCreate(db, tags, {
    where: { name },
    defaults: { color: 'blue' }, // only used when the row is created
  });
  // #endregion get-or-create
  return { tag, created };
}

/** getOrCreateMany: a post's tags, found or created in a few statements, in the order asked. */
export async function tagsNamed(db: Db, names: string[]) {
  // #region get-or-create-many
  const results = await getOrCreateMany(db, tags, {
    where: names.map((name) => ({ name })),
    defaults: (where) => ({ color: where.name === 'sql' ? 'blue' : 'grey' }),
  });
  const created = results.filter((result) => result.created).map((result) => result.row.name);
  // #endregion get-or-create-many
  return { tags: results.map((result) => result.row), created };
}

/** selectForUpdateOrCreate: a stock row, locked, created at 0 when missing. */
export async function receive(db: Db, sku: string, count: number) {
  // #region select-for-update-or-create
  await db.transaction(
    async (tx) => {
      const { row: stock } = await selectForUpdateOrCreate(tx, inventory, {
        where: { sku },
        defaults: { quantity: 0 },
      });
      await tx
        .update(inventory)
        .set({ quantity: stock.quantity + count })
        .where(eq(inventory.sku, sku));
    },
    { retries: 3 },
  );
  // #endregion select-for-update-or-create
}

/** updateOrCreate: a user's setting, set whether or not it existed. */
export async function setTheme(db: Db, userId: number, value: string) {
  // #region update-or-create
  const { row, created } = await updateOrCreate(db, settings, {
    where: { userId, name: 'theme' },
    set: { value },
  });
  // #endregion update-or-create
  return { row, created };
}

/** lockRows: a transfer that cannot deadlock with one going the other way. */
export async function transfer(db: Db, fromId: number, toId: number, amount: number) {
  // #region lock-rows
  await db.transaction(
    async (tx) => {
      // Locked in primary-key order, returned in the order asked for.
      const [from, to] = await lockRows(tx, accounts, [fromId, toId]);
      if (!from || !to) throw new Error('no such account');
      await tx
        .update(accounts)
        .set({ balance: from.balance - amount })
        .where(eq(accounts.id, from.id));
      await tx
        .update(accounts)
        .set({ balance: to.balance + amount })
        .where(eq(accounts.id, to.id));
    },
    { retries: 3 },
  );
  // #endregion lock-rows
}

/** refresh: re-read a row held across a slow call before writing it back. */
export async function spend(db: Db, stale: typeof accounts.$inferSelect, amount: number) {
  // #region refresh
  await db.transaction(async (tx) => {
    const fresh = await refresh(tx, accounts, stale, { lock: 'update' });
    await tx
      .update(accounts)
      .set({ balance: fresh.balance - amount })
      .where(eq(accounts.id, fresh.id));
  });
  // #endregion refresh
}
