import { selectForUpdateOrCreate } from '@racefree/rows';
import {
  type AnyMySqlDatabase,
  type AnyPgDatabase,
  atomic,
  type Database,
} from '@racefree/transactions';
import { eq } from 'drizzle-orm';
import { expectRow } from '../expect-row.js';
import { type ItemRow, itemTables, type MysqlItems, type PostgresItems } from '../item-tables.js';
import { familyOf, type Raw } from '../open-clients.js';
import { RAW_RETRIES, retryRaw } from '../retry-raw.js';
import { countDuplicates, insertUnlessTaken, type ItemScenarioGroup } from './item-scenarios.js';

/**
 * Lock-or-create, then a read-modify-write of the locked row (`value + 1`), a transaction per
 * operation: `selectForUpdateOrCreate` in `atomic({ retries })` against the hand-written
 * transaction (SELECT … FOR UPDATE; on a miss INSERT, and on a conflict lock the winner's
 * row; retried on deadlock). Invariant: the values sum to the successful operations (no
 * increment lost) and no key has two rows.
 */
export const selectForUpdateOrCreateScenarios: ItemScenarioGroup = {
  name: 'select-for-update-or-create',
  mixes: ['hot', 'cold'],
  title: (mix) => `select-for-update-or-create + increment, ${mix} keys`,
  contenders(driver, mix) {
    const family = familyOf(driver);
    const name = `items_${mix}` as const;
    const table = itemTables(family)[name];
    // The floor's UPDATE, sent the same way: prepared (one round trip on postgres.js, where
    // Drizzle's builder alone sends it described first, two).
    const increment = (tx: Database, row: { id: number; value: number }) =>
      family === 'postgres'
        ? (tx as AnyPgDatabase)
            .update(table as PostgresItems)
            .set({ value: row.value + 1 })
            .where(eq((table as PostgresItems).id, row.id))
            .prepare('bench_increment')
            .execute()
        : (tx as AnyMySqlDatabase)
            .update(table as MysqlItems)
            .set({ value: row.value + 1 })
            .where(eq((table as MysqlItems).id, row.id));
    const lock = async (tx: Raw, key: string) =>
      (await tx.query<ItemRow>(`select * from ${name} where name = ? for update`, [key])).rows[0];
    const create =
      family === 'postgres'
        ? async (tx: Raw, key: string) =>
            (
              await tx.query<ItemRow>(
                `insert into ${name} (name, value) values (?, 0) on conflict (name) do nothing returning *`,
                [key],
              )
            ).rows[0]
        : async (tx: Raw, key: string): Promise<ItemRow | undefined> => {
            const text = `insert into ${name} (name, value) values (?, 0)`;
            const id = await insertUnlessTaken(tx, text, [key]);
            return id === undefined ? undefined : { id, name: key, value: 0 };
          };
    return [
      {
        id: 'racefree',
        label: 'racefree selectForUpdateOrCreate + UPDATE (prepared) in atomic({ retries })',
        role: 'racefree',
        baseline: 'floor',
        op: (c, key) =>
          atomic(
            c.db,
            async (tx) => {
              const { row, created } = await selectForUpdateOrCreate(tx, table, {
                where: { name: key },
                defaults: { value: 0 },
              });
              await increment(tx, row);
              return { created };
            },
            { retries: RAW_RETRIES },
          ),
      },
      {
        id: 'floor',
        label: `hand-written: BEGIN; SELECT … FOR UPDATE; on a miss INSERT${family === 'postgres' ? ' … ON CONFLICT DO NOTHING' : ''} (lost: lock the winner's row); UPDATE; COMMIT; retried on deadlock`,
        role: 'floor',
        op: (c, key) =>
          retryRaw(() =>
            c.raw.transaction(async (tx) => {
              let created = false;
              let row = await lock(tx, key);
              if (!row) {
                row = await create(tx, key);
                if (row) created = true;
                // Lost the race: READ COMMITTED (PostgreSQL) and a locking read (MySQL, at
                // REPEATABLE READ) both see — and lock — the winner's row.
                else row = await lock(tx, key);
              }
              const locked = expectRow(key, row);
              await tx.query(`update ${name} set value = ? where id = ?`, [
                locked.value + 1,
                locked.id,
              ]);
              return { created };
            }),
          ),
      },
    ];
  },
  async check(admin, table, _contender, succeeded) {
    const duplicates = await countDuplicates(admin, table);
    const [row] = await admin.query<{ total: number | string | null }>(
      `select sum(value) as total from ${table}`,
    );
    const total = Number(row?.total ?? 0);
    const lost = succeeded - total;
    return {
      held: duplicates.held && lost === 0,
      anomalies: duplicates.anomalies + Math.abs(lost),
      detail: `${duplicates.detail}; ${succeeded} increments, ${total} recorded`,
    };
  },
};
