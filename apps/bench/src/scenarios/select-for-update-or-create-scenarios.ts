import { selectForUpdateOrCreate } from '@racefree/rows';
import { atomic, executeStatement, renderOnce } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { countDuplicates } from '../count-duplicates.js';
import { expectRow } from '../expect-row.js';
import {
  type ItemRow,
  type ItemTableName,
  type MysqlItems,
  mysqlItemTables,
  type PostgresItems,
  postgresItemTables,
} from '../item-tables.js';
import { mysqlTransaction } from '../mysql-transaction.js';
import type { BenchClient, MysqlClient, PostgresClient } from '../open-clients.js';
import { RAW_RETRIES, retryRaw } from '../retry-raw.js';
import type { Contender } from '../scenario.js';
import type { ItemMix, ItemScenarioGroup } from './item-scenarios.js';

type Mix = Exclude<ItemMix, 'existing'>;

/**
 * Lock-or-create, then a read-modify-write of the locked row (`value = value + 1`), one
 * transaction per operation: racefree `selectForUpdateOrCreate` inside `atomic({ retries })`
 * against the hand-written transaction doing the same (SELECT … FOR UPDATE; on a miss INSERT,
 * and on a conflict lock the winner's row; retried on deadlock). The invariant: the values sum
 * to the number of successful operations (no increment lost) and no key has two rows.
 */
export const selectForUpdateOrCreateScenarios: ItemScenarioGroup<Mix> = {
  name: 'select-for-update-or-create',
  title: (mix) => `select-for-update-or-create + increment, ${mix} keys`,
  mixes: ['hot', 'cold'],
  postgres: postgresContenders,
  mysql: mysqlContenders,
  async check(admin, table, _contender, counts) {
    const duplicates = await countDuplicates(admin, table);
    const [row] = await admin.query<{ total: number | string | null }>(
      `select sum(value) as total from ${table}`,
    );
    const total = Number(row?.total ?? 0);
    const lost = counts.allSucceeded - total;
    return {
      held: duplicates.held && lost === 0,
      anomalies: duplicates.anomalies + Math.abs(lost),
      detail: `${duplicates.detail}; ${counts.allSucceeded} increments, ${total} recorded`,
    };
  },
};

/**
 * racefree's contender on either dialect. The increment of the locked row is the same work as
 * the floor's and is sent the same way: rendered once, as a prepared statement (racefree's
 * `executeStatement` + `renderOnce`), so the ratio measures `selectForUpdateOrCreate` and
 * `atomic`. Drizzle's builder would send it unprepared on postgres.js, one more round trip
 * (measured: 6.00 round trips per operation against the floor's 5.00).
 */
function racefree<C extends BenchClient>(table: PostgresItems | MysqlItems): Contender<C> {
  const increment = renderOnce(
    sql`update ${table} set value = ${sql.placeholder('value')} where id = ${sql.placeholder('id')}`,
  );
  return {
    id: 'racefree',
    label: 'racefree selectForUpdateOrCreate + UPDATE (prepared) in atomic({ retries })',
    role: 'racefree',
    baseline: 'floor',
    async op(c, key) {
      return atomic(
        c.db,
        async (tx) => {
          const { row, created } = await selectForUpdateOrCreate(tx, table, {
            where: { name: key },
            defaults: { value: 0 },
          });
          await executeStatement(tx, increment(tx, { value: row.value + 1, id: row.id }));
          return { created };
        },
        { retries: RAW_RETRIES },
      );
    },
  };
}

function postgresContenders(mix: Mix): Contender<PostgresClient>[] {
  const name: ItemTableName = `items_${mix}`;
  const table = postgresItemTables[name];
  return [
    racefree(table),
    {
      id: 'floor',
      label:
        'hand-written: BEGIN; SELECT … FOR UPDATE; on a miss INSERT … ON CONFLICT DO NOTHING (+ SELECT … FOR UPDATE); UPDATE; COMMIT',
      role: 'floor',
      op: (c, key) =>
        retryRaw(() =>
          c.sql.begin(async (tx) => {
            const lockRow = () =>
              tx<ItemRow[]>`select * from ${tx(name)} where name = ${key} for update`;
            let created = false;
            let [row] = await lockRow();
            if (!row) {
              [row] = await tx<ItemRow[]>`
                insert into ${tx(name)} (name, value) values (${key}, 0)
                on conflict (name) do nothing returning *`;
              if (row) created = true;
              // Lost the race: READ COMMITTED lets this statement see (and lock) the winner's row.
              else [row] = await lockRow();
            }
            const locked = expectRow(key, row);
            await tx`update ${tx(name)} set value = ${locked.value + 1} where id = ${locked.id}`;
            return { created };
          }),
        ),
    },
  ];
}

function mysqlContenders(mix: Mix): Contender<MysqlClient>[] {
  const name: ItemTableName = `items_${mix}`;
  const table = mysqlItemTables[name];
  const lockRow = async (c: MysqlClient, key: string) => {
    const [rows] = await c.conn.query<RowDataPacket[]>(
      `select * from ${name} where name = ? for update`,
      [key],
    );
    return rows[0] as ItemRow | undefined;
  };
  return [
    racefree(table),
    {
      id: 'floor',
      label:
        'hand-written: BEGIN; SELECT … FOR UPDATE; on a miss INSERT (duplicate → SELECT … FOR UPDATE); UPDATE; COMMIT; retried on deadlock',
      role: 'floor',
      op: (c, key) =>
        retryRaw(() =>
          mysqlTransaction(c.conn, async () => {
            let created = false;
            let row = await lockRow(c, key);
            if (!row) {
              try {
                const [result] = await c.conn.query<ResultSetHeader>(
                  `insert into ${name} (name, value) values (?, 0)`,
                  [key],
                );
                row = { id: result.insertId, name: key, value: 0 };
                created = true;
              } catch (error) {
                if ((error as { errno?: number }).errno !== 1062) throw error;
                // A locking read: at REPEATABLE READ a plain SELECT would not see the winner.
                row = await lockRow(c, key);
              }
            }
            const locked = expectRow(key, row);
            await c.conn.query(`update ${name} set value = ? where id = ?`, [
              locked.value + 1,
              locked.id,
            ]);
            return { created };
          }),
        ),
    },
  ];
}
