import { randomInt } from 'node:crypto';
import { updateOrCreate } from '@racefree/rows';
import { expectRow, WrongRowError } from '../expect-row.js';
import { type ItemRow, itemTables } from '../item-tables.js';
import { familyOf, type Raw } from '../open-clients.js';
import { retryRaw } from '../retry-raw.js';
import { insertUnlessTaken, type ItemScenarioGroup } from './item-scenarios.js';

/** The row must carry the value this operation wrote. */
function expectValue(key: string, row: ItemRow | undefined, value: number): ItemRow {
  const found = expectRow(key, row);
  if (Number(found.value) !== value)
    throw new WrongRowError(`row of ${key} has value ${found.value}, expected ${value}`);
  return found;
}

/**
 * Django's `update_or_create`, outside any transaction: racefree `updateOrCreate` (it opens and
 * retries its own) against the hand-written transaction (UPDATE first; on a miss INSERT, and on
 * a conflict UPDATE the winner's row), and the native one-statement upsert for reference.
 * Every operation must get its row back with the value it wrote; no key may have two rows.
 */
export const updateOrCreateScenarios: ItemScenarioGroup = {
  name: 'update-or-create',
  mixes: ['hot', 'cold'],
  title: (mix) => `update-or-create, ${mix} keys`,
  contenders(driver, mix) {
    const family = familyOf(driver);
    const name = `items_${mix}` as const;
    const table = itemTables(family)[name];
    const postgres = family === 'postgres';
    // PostgreSQL: UPDATE … RETURNING. MySQL: UPDATE (affectedRows counts matched rows: mysql2
    // sets FOUND_ROWS), then the row back with a locking read, as it is ours until COMMIT.
    const update = async (tx: Raw, key: string, value: number) => {
      const { rows, count } = await tx.query<ItemRow>(
        `update ${name} set value = ? where name = ?${postgres ? ' returning *' : ''}`,
        [value, key],
      );
      if (postgres || count === 0) return rows[0];
      return (await tx.query<ItemRow>(`select * from ${name} where name = ? for update`, [key]))
        .rows[0];
    };
    const insert = async (tx: Raw, key: string, value: number) => {
      if (postgres) {
        const text = `insert into ${name} (name, value) values (?, ?) on conflict (name) do nothing returning *`;
        return (await tx.query(text, [key, value])).count > 0;
      }
      const text = `insert into ${name} (name, value) values (?, ?)`;
      return (await insertUnlessTaken(tx, text, [key, value])) !== undefined;
    };
    return [
      {
        id: 'racefree',
        label: 'racefree updateOrCreate (opens its own transaction)',
        role: 'racefree',
        baseline: 'floor',
        async op(c, key) {
          const value = randomInt(1_000_000_000);
          const { row, created } = await updateOrCreate(c.db, table, {
            where: { name: key },
            set: { value },
          });
          expectValue(key, row, value);
          return { created };
        },
      },
      {
        id: 'floor',
        label: `hand-written: BEGIN; UPDATE${postgres ? ' … RETURNING' : ' + SELECT'}; on a miss INSERT${postgres ? ' … ON CONFLICT DO NOTHING RETURNING' : ''} (lost: UPDATE again); COMMIT; retried on deadlock`,
        role: 'floor',
        op(c, key) {
          const value = randomInt(1_000_000_000);
          return retryRaw(() =>
            c.raw.transaction(async (tx) => {
              const updated = await update(tx, key, value);
              if (updated) {
                expectValue(key, updated, value);
                return { created: false };
              }
              if (await insert(tx, key, value)) return { created: true };
              // Lost the creation race: update the winner's row (READ COMMITTED sees it).
              expectValue(key, await update(tx, key, value), value);
              return { created: false };
            }),
          );
        },
      },
      {
        id: 'native-upsert',
        label: postgres
          ? 'reference: INSERT … ON CONFLICT DO UPDATE SET value = excluded.value RETURNING (autocommit)'
          : 'reference: INSERT … ON DUPLICATE KEY UPDATE value = VALUES(value), then SELECT (autocommit)',
        role: 'reference',
        baseline: 'floor',
        async op(c, key) {
          const value = randomInt(1_000_000_000);
          if (postgres) {
            const text = `insert into ${name} (name, value) values (?, ?) on conflict (name) do update set value = excluded.value returning *`;
            expectValue(key, (await c.raw.query<ItemRow>(text, [key, value])).rows[0], value);
            return undefined;
          }
          const text = `insert into ${name} (name, value) values (?, ?) on duplicate key update value = values(value)`;
          await c.raw.query(text, [key, value]);
          // Another client may have written its own value since: only the key is checked.
          expectRow(
            key,
            (await c.raw.query<ItemRow>(`select * from ${name} where name = ?`, [key])).rows[0],
          );
          return undefined;
        },
      },
    ];
  },
};
