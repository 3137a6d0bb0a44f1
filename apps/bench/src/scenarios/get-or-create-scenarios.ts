import { getOrCreate } from '@racefree/rows';
import {
  type AnyMySqlDatabase,
  type AnyPgDatabase,
  atomic,
  type Database,
} from '@racefree/transactions';
import { eq, sql } from 'drizzle-orm';
import { expectRow } from '../expect-row.js';
import {
  type ItemMix,
  type ItemRow,
  itemTables,
  KEYLESS_TABLE,
  type MysqlItems,
  mysqlTables,
  type PostgresItems,
  postgresTables,
} from '../item-tables.js';
import { type BenchClient, familyOf, type Raw } from '../open-clients.js';
import { type Contender, FLOOR_AGAIN_ID } from '../scenario.js';
import { countDuplicates, type ItemScenarioGroup } from './item-scenarios.js';

type Prefer = 'get' | 'create';
/** The `prefer` a user would pick: read first when rows exist, insert first when most are new. */
const PREFER: Record<ItemMix, Prefer> = { existing: 'get', hot: 'create', cold: 'create' };
const INSERT = {
  postgres: 'INSERT … ON CONFLICT DO NOTHING RETURNING',
  mysql: 'INSERT … ON DUPLICATE KEY UPDATE id = id',
};

/**
 * get-or-create on existing, hot and cold keys: racefree `getOrCreate` with the `prefer` that
 * suits the mix; the raw floor on the same driver, in the same order; the floor again (its
 * ratio to the floor is the run's noise); the naive Drizzle select-then-insert (the control:
 * its unique violations are errors, and on hot keys a keyless twin table shows its
 * duplicates); the "upsert with a dummy update" idiom. On PostgreSQL, existing and cold keys
 * also run inside a transaction — getOrCreate in `atomic()` against the floor's statements
 * between BEGIN and COMMIT, and on cold keys the floor with its INSERT in a savepoint — which
 * is where getOrCreate's create takes its #20463 savepoint.
 */
export const getOrCreateScenarios: ItemScenarioGroup = {
  name: 'get-or-create',
  mixes: ['existing', 'hot', 'cold'],
  title: (mix) => `get-or-create, ${mix} keys`,
  contenders(driver, mix) {
    const family = familyOf(driver);
    const prefer = PREFER[mix];
    const name = `items_${mix}` as const;
    const table = itemTables(family)[name];
    const op = floorOp(family, name, prefer);
    const floor: Contender = {
      id: 'floor',
      label:
        prefer === 'get'
          ? `raw floor: SELECT, on a miss ${INSERT[family]} + SELECT`
          : `raw floor: ${INSERT[family]}, SELECT on a miss`,
      role: 'floor',
      op: (c, key) => op(c.raw, key),
    };
    const contenders: Contender[] = [
      racefree(table, prefer, false),
      floor,
      {
        ...floor,
        id: FLOOR_AGAIN_ID,
        label: 'raw floor again (noise check)',
        role: 'reference',
        baseline: 'floor',
      },
    ];
    // The controls show Drizzle's and the naive code's behaviour, alike on either PostgreSQL driver.
    if (driver !== 'node-postgres') {
      const drizzle = family === 'postgres' ? postgresDrizzle(mix) : mysqlDrizzle(mix);
      contenders.push(drizzle.naive('naive', 'naive Drizzle select-then-insert (control)', name));
      if (mix === 'hot')
        contenders.push(
          drizzle.naive(
            'naive-keyless',
            'naive select-then-insert, no unique constraint (control)',
            KEYLESS_TABLE,
          ),
        );
      contenders.push(drizzle.idiom);
    }
    if (family === 'mysql' || mix === 'hot') return contenders;
    contenders.push(racefree(table, prefer, true), {
      id: 'floor-in-tx',
      label: `raw floor in a transaction: BEGIN; ${floor.label.slice('raw floor: '.length)}; COMMIT`,
      role: 'floor',
      op: (c, key) => c.raw.transaction((tx) => op(tx, key)),
    });
    const withSavepoint = floorOp(family, name, prefer, true);
    if (mix === 'cold')
      contenders.push({
        id: 'floor-in-tx-savepoint',
        // Not released: the transaction ends it, as postgres.js leaves getOrCreate's.
        label:
          'raw, the same with a savepoint before its INSERT: BEGIN; SAVEPOINT; INSERT …; COMMIT',
        role: 'reference',
        baseline: 'floor-in-tx',
        op: (c, key) => c.raw.transaction((tx) => withSavepoint(tx, key)),
      });
    return contenders;
  },
  // Every contender's check holds on its own: the keyed tables cannot hold a duplicate, only
  // the keyless control writes the keyless twin, and a wrong row is caught per operation.
  interleaved: true,
  resetTables: (mix) =>
    mix === 'existing' ? [] : mix === 'hot' ? ['items_hot', KEYLESS_TABLE] : [`items_${mix}`],
  check: (admin, table, contender) =>
    countDuplicates(admin, contender.id === 'naive-keyless' ? KEYLESS_TABLE : table),
};

function racefree(
  table: PostgresItems | MysqlItems,
  prefer: Prefer,
  inTransaction: boolean,
): Contender {
  const call = (db: Database, key: string) =>
    getOrCreate(db, table, { where: { name: key }, defaults: { value: 1 }, prefer });
  return {
    id: inTransaction ? 'racefree-in-tx' : 'racefree',
    label: `racefree getOrCreate (prefer: '${prefer}')${inTransaction ? ' in atomic()' : ''}`,
    role: 'racefree',
    baseline: inTransaction ? 'floor-in-tx' : 'floor',
    ...(inTransaction && prefer === 'create' ? { sameWorkBaseline: 'floor-in-tx-savepoint' } : {}),
    async op(c, key) {
      const { row, created } = inTransaction
        ? await atomic(c.db, (tx) => call(tx, key))
        : await call(c.db, key);
      expectRow(key, row);
      return { created };
    },
  };
}

/**
 * The raw floor's statements on `raw` (a connection, or a transaction on it), in the order
 * `prefer` picks. PostgreSQL: `INSERT … ON CONFLICT DO NOTHING RETURNING`, and on a conflict a
 * SELECT, which at READ COMMITTED sees the row that won. MySQL: not INSERT IGNORE, which would
 * turn data errors into warnings; the SELECT after it (autocommit) sees whoever inserted.
 */
function floorOp(family: 'postgres' | 'mysql', name: string, prefer: Prefer, savepoint = false) {
  const select = async (raw: Raw, key: string) =>
    (await raw.query<ItemRow>(`select * from ${name} where name = ?`, [key])).rows[0];
  const insertFirst =
    family === 'postgres'
      ? async (raw: Raw, key: string) => {
          if (savepoint) await raw.query('savepoint bench');
          const { rows } = await raw.query(
            `insert into ${name} (name, value) values (?, 1) on conflict (name) do nothing returning *`,
            [key],
          );
          if (rows[0]) return { created: true };
          expectRow(key, await select(raw, key));
          return { created: false };
        }
      : async (raw: Raw, key: string) => {
          await raw.query(
            `insert into ${name} (name, value) values (?, 1) on duplicate key update id = id`,
            [key],
          );
          expectRow(key, await select(raw, key));
          return undefined;
        };
  if (prefer === 'create') return insertFirst;
  return async (raw: Raw, key: string) => {
    const found = await select(raw, key);
    if (!found) return insertFirst(raw, key);
    expectRow(key, found);
    return { created: false };
  };
}

/**
 * The naive get-or-create, on purpose: between the read and the insert another client may
 * insert the key (a unique violation reaches the caller, or without a constraint a duplicate).
 */
function naiveContender(
  id: string,
  label: string,
  find: (c: BenchClient, key: string) => Promise<ItemRow | undefined>,
  insert: (c: BenchClient, key: string) => Promise<unknown>,
): Contender {
  return {
    id,
    label,
    role: 'control',
    baseline: 'floor',
    async op(c, key) {
      const found = await find(c, key);
      if (found) {
        expectRow(key, found);
        return { created: false };
      }
      await insert(c, key);
      return { created: true };
    },
  };
}

function postgresDrizzle(mix: ItemMix) {
  const pg = (c: BenchClient) => c.db as AnyPgDatabase;
  const table = postgresTables[`items_${mix}`];
  return {
    naive: (id: string, label: string, tableName: keyof typeof postgresTables) => {
      const t = postgresTables[tableName];
      return naiveContender(
        id,
        label,
        async (c, key) => (await pg(c).select().from(t).where(eq(t.name, key)).limit(1))[0],
        async (c, key) =>
          expectRow(key, (await pg(c).insert(t).values({ name: key, value: 1 }).returning())[0]),
      );
    },
    idiom: {
      id: 'upsert-idiom',
      label: 'upsert with a dummy update: onConflictDoUpdate(set name = name) RETURNING',
      role: 'idiom',
      baseline: 'floor',
      async op(c, key) {
        const [row] = await pg(c)
          .insert(table)
          .values({ name: key, value: 1 })
          .onConflictDoUpdate({ target: table.name, set: { name: key } })
          .returning();
        expectRow(key, row);
        return undefined;
      },
    } satisfies Contender,
  };
}

function mysqlDrizzle(mix: ItemMix) {
  const my = (c: BenchClient) => c.db as AnyMySqlDatabase;
  const table = mysqlTables[`items_${mix}`];
  const find = async (c: BenchClient, t: MysqlItems, key: string) =>
    (await my(c).select().from(t).where(eq(t.name, key)).limit(1))[0];
  return {
    naive: (id: string, label: string, tableName: keyof typeof mysqlTables) =>
      naiveContender(
        id,
        label,
        (c, key) => find(c, mysqlTables[tableName], key),
        (c, key) => my(c).insert(mysqlTables[tableName]).values({ name: key, value: 1 }),
      ),
    idiom: {
      id: 'upsert-idiom',
      label: 'upsert with a dummy update: onDuplicateKeyUpdate(set id = id), then SELECT',
      role: 'idiom',
      baseline: 'floor',
      async op(c, key) {
        await my(c)
          .insert(table)
          .values({ name: key, value: 1 })
          .onDuplicateKeyUpdate({ set: { id: sql`id` } });
        expectRow(key, await find(c, table, key));
        return undefined;
      },
    } satisfies Contender,
  };
}
