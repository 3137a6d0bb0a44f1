import { randomInt } from 'node:crypto';
import { updateOrCreate } from '@racefree/rows';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { expectRow, WrongRowError } from '../expect-row.js';
import {
  type ItemRow,
  type ItemTableName,
  mysqlItemTables,
  postgresItemTables,
} from '../item-tables.js';
import { mysqlTransaction } from '../mysql-transaction.js';
import type { BenchClient, MysqlClient, PostgresClient } from '../open-clients.js';
import { retryRaw } from '../retry-raw.js';
import type { Contender } from '../scenario.js';
import type { ItemMix, ItemScenarioGroup } from './item-scenarios.js';

type Mix = Exclude<ItemMix, 'existing'>;

/**
 * update-or-create (Django's `update_or_create`), one call per operation outside any
 * transaction: racefree `updateOrCreate` (it opens and retries its own transaction) against
 * the hand-written transaction doing the same (UPDATE first; on a miss INSERT, and on a
 * conflict UPDATE the winner's row), plus the native single-statement upsert for reference.
 * Every operation must get back its row with the value it wrote; no key may have two rows.
 */
export const updateOrCreateScenarios: ItemScenarioGroup<Mix> = {
  name: 'update-or-create',
  title: (mix) => `update-or-create, ${mix} keys`,
  mixes: ['hot', 'cold'],
  postgres: postgresContenders,
  mysql: mysqlContenders,
};

/** The row must carry the value this operation wrote. */
function expectValue(key: string, row: ItemRow | undefined, value: number): ItemRow {
  const found = expectRow(key, row);
  if (Number(found.value) !== value)
    throw new WrongRowError(`row of ${key} has value ${found.value}, expected ${value}`);
  return found;
}

function racefree<C extends BenchClient>(
  table: (typeof postgresItemTables)[ItemTableName] | (typeof mysqlItemTables)[ItemTableName],
): Contender<C> {
  return {
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
  };
}

function postgresContenders(mix: Mix): Contender<PostgresClient>[] {
  const name: ItemTableName = `items_${mix}`;
  return [
    racefree(postgresItemTables[name]),
    {
      id: 'floor',
      label:
        'hand-written: BEGIN; UPDATE … RETURNING; on a miss INSERT … ON CONFLICT DO NOTHING RETURNING (+ UPDATE); COMMIT',
      role: 'floor',
      op: (c, key) => {
        const value = randomInt(1_000_000_000);
        return retryRaw(() =>
          c.sql.begin(async (tx) => {
            const update = () =>
              tx<
                ItemRow[]
              >`update ${tx(name)} set value = ${value} where name = ${key} returning *`;
            let [row] = await update();
            if (row) {
              expectValue(key, row, value);
              return { created: false };
            }
            [row] = await tx<ItemRow[]>`
              insert into ${tx(name)} (name, value) values (${key}, ${value})
              on conflict (name) do nothing returning *`;
            if (row) return { created: true };
            // Lost the creation race: update the winner's row (READ COMMITTED sees it).
            [row] = await update();
            expectValue(key, row, value);
            return { created: false };
          }),
        );
      },
    },
    {
      id: 'native-upsert',
      label:
        'reference: INSERT … ON CONFLICT DO UPDATE SET value = excluded.value RETURNING (autocommit)',
      role: 'reference',
      baseline: 'floor',
      async op(c, key) {
        const value = randomInt(1_000_000_000);
        const [row] = await c.sql<ItemRow[]>`
          insert into ${c.sql(name)} (name, value) values (${key}, ${value})
          on conflict (name) do update set value = excluded.value returning *`;
        expectValue(key, row, value);
        return undefined;
      },
    },
  ];
}

function mysqlContenders(mix: Mix): Contender<MysqlClient>[] {
  const name: ItemTableName = `items_${mix}`;
  const update = async (c: MysqlClient, key: string, value: number) => {
    // mysql2 sets FOUND_ROWS: affectedRows counts matched rows, even when the value is unchanged.
    const [result] = await c.conn.query<ResultSetHeader>(
      `update ${name} set value = ? where name = ?`,
      [value, key],
    );
    return result.affectedRows > 0;
  };
  // The row back (MySQL has no RETURNING): a locking read, as the row is ours until COMMIT.
  const read = async (c: MysqlClient, key: string) => {
    const [rows] = await c.conn.query<RowDataPacket[]>(
      `select * from ${name} where name = ? for update`,
      [key],
    );
    return rows[0] as ItemRow | undefined;
  };
  return [
    racefree(mysqlItemTables[name]),
    {
      id: 'floor',
      label:
        'hand-written: BEGIN; UPDATE + SELECT; on a miss INSERT (duplicate → UPDATE + SELECT); COMMIT; retried on deadlock',
      role: 'floor',
      op: (c, key) => {
        const value = randomInt(1_000_000_000);
        return retryRaw(() =>
          mysqlTransaction(c.conn, async () => {
            if (await update(c, key, value)) {
              expectValue(key, await read(c, key), value);
              return { created: false };
            }
            try {
              await c.conn.query(`insert into ${name} (name, value) values (?, ?)`, [key, value]);
              return { created: true };
            } catch (error) {
              if ((error as { errno?: number }).errno !== 1062) throw error;
            }
            await update(c, key, value);
            expectValue(key, await read(c, key), value);
            return { created: false };
          }),
        );
      },
    },
    {
      id: 'native-upsert',
      label:
        'reference: INSERT … ON DUPLICATE KEY UPDATE value = VALUES(value), then SELECT (autocommit)',
      role: 'reference',
      baseline: 'floor',
      async op(c, key) {
        const value = randomInt(1_000_000_000);
        await c.conn.query(
          `insert into ${name} (name, value) values (?, ?) on duplicate key update value = values(value)`,
          [key, value],
        );
        const [rows] = await c.conn.query<RowDataPacket[]>(`select * from ${name} where name = ?`, [
          key,
        ]);
        // Another client may have written its own value since: only the key is checked here.
        expectRow(key, rows[0] as ItemRow | undefined);
        return undefined;
      },
    },
  ];
}
