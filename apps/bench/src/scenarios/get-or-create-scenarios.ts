import { getOrCreate } from '@racefree/rows';
import { eq, sql } from 'drizzle-orm';
import type { RowDataPacket } from 'mysql2/promise';
import { countDuplicates } from '../count-duplicates.js';
import { expectRow } from '../expect-row.js';
import {
  type ItemRow,
  type ItemTableName,
  KEYLESS_TABLE_NAME,
  type MysqlItems,
  mysqlItemTables,
  mysqlKeylessItems,
  type PostgresItems,
  postgresItemTables,
  postgresKeylessItems,
} from '../item-tables.js';
import type { BenchClient, MysqlClient, PostgresClient } from '../open-clients.js';
import { type Contender, FLOOR_AGAIN_ID, type OpOutcome } from '../scenario.js';
import { type ItemMix, type ItemScenarioGroup } from './item-scenarios.js';

type Prefer = 'get' | 'create';

/** The `prefer` a user would pick: read first when rows exist, insert first when most are new. */
const PREFER: Record<ItemMix, Prefer> = { existing: 'get', hot: 'create', cold: 'create' };
const NAIVE_LABEL = 'naive Drizzle select-then-insert (control)';
const NAIVE_KEYLESS_LABEL = 'naive select-then-insert, no unique constraint (control)';

/**
 * get-or-create on three key mixes (existing, hot, cold). Contenders: racefree `getOrCreate`
 * with the `prefer` that suits the mix; the raw floor on the same driver, in the same order
 * (select first on existing keys, insert first otherwise); the naive Drizzle select-then-insert
 * (the control: its unique violations are counted as errors, and on the hot mix a keyless twin
 * table shows the duplicates it makes when the constraint is missing); and the "upsert with a
 * dummy update" idiom.
 */
export const getOrCreateScenarios: ItemScenarioGroup<ItemMix> = {
  name: 'get-or-create',
  title: (mix) => `get-or-create, ${mix} keys`,
  mixes: ['existing', 'hot', 'cold'],
  postgres: postgresContenders,
  mysql: mysqlContenders,
  // Every contender's check holds on its own: the keyed tables cannot hold a duplicate, only
  // the keyless control writes the keyless twin, and a wrong row is caught per operation.
  interleaved: true,
  // Existing keys are read-only for every contender; the others start from empty tables.
  resetTables: (mix, table) =>
    mix === 'existing' ? [] : mix === 'hot' ? [table, KEYLESS_TABLE_NAME] : [table],
  check: (admin, table, contender) =>
    countDuplicates(admin, contender.id === 'naive-keyless' ? KEYLESS_TABLE_NAME : table),
};

/**
 * The raw floor on one driver, in the order `PREFER` picks: insert first (`insertFirst`, which
 * reads the row back when the key was taken), or on existing keys a `select` first.
 */
function floorContender<C extends BenchClient>(
  mix: ItemMix,
  statement: string,
  select: (c: C, key: string) => Promise<ItemRow | undefined>,
  insertFirst: (c: C, key: string) => Promise<OpOutcome | undefined>,
): Contender<C> {
  const prefer = PREFER[mix];
  return {
    id: 'floor',
    label:
      prefer === 'get'
        ? `raw floor: SELECT, on a miss ${statement} + SELECT`
        : `raw floor: ${statement}, SELECT on a miss`,
    role: 'floor',
    op:
      prefer === 'create'
        ? insertFirst
        : async (c, key) => ((await select(c, key)) ? { created: false } : insertFirst(c, key)),
  };
}

function postgresContenders(mix: ItemMix): Contender<PostgresClient>[] {
  const name: ItemTableName = `items_${mix}`;
  const table = postgresItemTables[name];
  const select = async (c: PostgresClient, key: string) => {
    const [found] = await c.sql<ItemRow[]>`select * from ${c.sql(name)} where name = ${key}`;
    return found;
  };
  const insertFirst = async (c: PostgresClient, key: string) => {
    const [inserted] = await c.sql<ItemRow[]>`
      insert into ${c.sql(name)} (name, value) values (${key}, 1)
      on conflict (name) do nothing returning *`;
    if (inserted) return { created: true };
    // READ COMMITTED: this new statement sees the row the conflicting insert committed.
    expectRow(key, await select(c, key));
    return { created: false };
  };
  return lineUp(mix, table, {
    floor: floorContender(mix, 'INSERT … ON CONFLICT DO NOTHING RETURNING', select, insertFirst),
    naive: naivePostgres,
    keyless: postgresKeylessItems,
    idiom: {
      id: 'upsert-idiom',
      label: 'upsert with a dummy update: onConflictDoUpdate(set name = name) RETURNING',
      role: 'idiom',
      baseline: 'floor',
      async op(c, key) {
        const [row] = await c.db
          .insert(table)
          .values({ name: key, value: 1 })
          .onConflictDoUpdate({ target: table.name, set: { name: key } })
          .returning();
        expectRow(key, row);
        return undefined;
      },
    },
  });
}

function mysqlContenders(mix: ItemMix): Contender<MysqlClient>[] {
  const name: ItemTableName = `items_${mix}`;
  const table = mysqlItemTables[name];
  const select = async (c: MysqlClient, key: string) => {
    const [rows] = await c.conn.query<RowDataPacket[]>(`select * from ${name} where name = ?`, [
      key,
    ]);
    return rows[0] as ItemRow | undefined;
  };
  const insertFirst = async (c: MysqlClient, key: string) => {
    // Not INSERT IGNORE: that would also turn data errors into warnings.
    await c.conn.query(
      `insert into ${name} (name, value) values (?, 1) on duplicate key update id = id`,
      [key],
    );
    // Autocommit: a new snapshot, which sees the row whoever inserted it.
    expectRow(key, await select(c, key));
    return undefined;
  };
  return lineUp(mix, table, {
    floor: floorContender(mix, 'INSERT … ON DUPLICATE KEY UPDATE id = id', select, insertFirst),
    naive: naiveMysql,
    keyless: mysqlKeylessItems,
    idiom: {
      id: 'upsert-idiom',
      label: 'upsert with a dummy update: onDuplicateKeyUpdate(set id = id), then SELECT',
      role: 'idiom',
      baseline: 'floor',
      async op(c, key) {
        await c.db
          .insert(table)
          .values({ name: key, value: 1 })
          .onDuplicateKeyUpdate({ set: { id: sql`id` } });
        const [row] = await c.db.select().from(table).where(eq(table.name, key)).limit(1);
        expectRow(key, row);
        return undefined;
      },
    },
  });
}

/**
 * A mix's contenders in the order the tables print them: racefree, the floor, the floor again
 * (the same code: its ratio to the floor, ideally 1, shows how finely this run can tell two
 * contenders apart), the naive control (and on hot keys its keyless twin, where the
 * duplicates show), the upsert idiom.
 */
function lineUp<C extends BenchClient, T extends PostgresItems | MysqlItems>(
  mix: ItemMix,
  table: T,
  parts: {
    floor: Contender<C>;
    naive: (id: string, label: string, table: T) => Contender<C>;
    keyless: T;
    idiom: Contender<C>;
  },
): Contender<C>[] {
  return [
    racefreeContender(mix, table),
    parts.floor,
    {
      ...parts.floor,
      id: FLOOR_AGAIN_ID,
      label: 'raw floor again (noise check)',
      role: 'reference',
      baseline: 'floor',
    },
    parts.naive('naive', NAIVE_LABEL, table),
    ...(mix === 'hot' ? [parts.naive('naive-keyless', NAIVE_KEYLESS_LABEL, parts.keyless)] : []),
    parts.idiom,
  ];
}

function racefreeContender<C extends BenchClient>(
  mix: ItemMix,
  table: PostgresItems | MysqlItems,
): Contender<C> {
  const prefer = PREFER[mix];
  return {
    id: 'racefree',
    label: `racefree getOrCreate (prefer: '${prefer}')`,
    role: 'racefree',
    baseline: 'floor',
    async op(c, key) {
      const { row, created } = await getOrCreate(c.db, table, {
        where: { name: key },
        defaults: { value: 1 },
        prefer,
      });
      expectRow(key, row);
      return { created };
    },
  };
}

/**
 * The naive get-or-create, on purpose: between the read and the insert another client may
 * insert the same key (a unique violation reaches the caller, or — where no constraint
 * forbids it — a duplicate row). `find` and `insert` are Drizzle's builder on one dialect.
 */
function naiveContender<C extends BenchClient>(
  id: string,
  label: string,
  find: (c: C, key: string) => Promise<ItemRow | undefined>,
  insert: (c: C, key: string) => Promise<unknown>,
): Contender<C> {
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

function naivePostgres(id: string, label: string, table: PostgresItems): Contender<PostgresClient> {
  return naiveContender<PostgresClient>(
    id,
    label,
    async (c, key) => (await c.db.select().from(table).where(eq(table.name, key)).limit(1))[0],
    async (c, key) =>
      expectRow(key, (await c.db.insert(table).values({ name: key, value: 1 }).returning())[0]),
  );
}

function naiveMysql(id: string, label: string, table: MysqlItems): Contender<MysqlClient> {
  return naiveContender<MysqlClient>(
    id,
    label,
    async (c, key) => (await c.db.select().from(table).where(eq(table.name, key)).limit(1))[0],
    (c, key) => c.db.insert(table).values({ name: key, value: 1 }).$returningId(),
  );
}
