import { getOrCreate } from '@racefree/rows';
import { usePreparedStatements } from '@racefree/rows/testing';
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
  type ItemTableName,
  itemTables,
  KEYLESS_TABLE,
  mysqlTables,
  type PostgresItems,
  postgresTables,
} from '../item-tables.js';
import { type Family, familyOf, type Raw } from '../open-clients.js';
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
      plainPath(table, prefer),
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
      contenders.push(naive('naive', 'naive Drizzle select-then-insert (control)', name, family));
      if (mix === 'hot') {
        const label = 'naive select-then-insert, no unique constraint (control)';
        contenders.push(naive('naive-keyless', label, KEYLESS_TABLE, family));
      }
      contenders.push(idiom(mix, family));
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

/**
 * The same getOrCreate with its faster path turned off (`usePreparedStatements(false)`): every
 * statement built by Drizzle on each call. Its ratio to racefree's is the same-run A/B the
 * faster path must win by ≥ 10% to stay (contenders run one at a time, so the switch holds
 * for the whole slice).
 */
function plainPath(
  table: PostgresItems | (typeof mysqlTables)[ItemTableName],
  prefer: Prefer,
): Contender {
  const fast = racefree(table, prefer, false);
  return {
    ...fast,
    id: 'racefree-plain',
    label: `${fast.label}, plain path (no prepared statements)`,
    role: 'reference',
    baseline: 'racefree',
    async op(c, key) {
      usePreparedStatements(false);
      try {
        return await fast.op(c, key);
      } finally {
        usePreparedStatements(true);
      }
    },
  };
}

function racefree(
  table: PostgresItems | (typeof mysqlTables)[ItemTableName],
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
 * The builder calls are spelt alike on both dialects; typed as PostgreSQL's for brevity.
 */
function naive(id: string, label: string, name: string, family: Family): Contender {
  const t = itemTables(family)[name as ItemTableName] as PostgresItems;
  return {
    id,
    label,
    role: 'control',
    baseline: 'floor',
    async op(c, key) {
      const db = c.db as AnyPgDatabase;
      const [found] = await db.select().from(t).where(eq(t.name, key)).limit(1);
      if (found) {
        expectRow(key, found);
        return { created: false };
      }
      await db.insert(t).values({ name: key, value: 1 });
      return { created: true };
    },
  };
}

/** The "upsert with a dummy update" idiom: the key set to itself, so the row comes back. */
function idiom(mix: ItemMix, family: Family): Contender {
  const [pg, my] = [postgresTables[`items_${mix}`], mysqlTables[`items_${mix}`]];
  return {
    id: 'upsert-idiom',
    label:
      family === 'postgres'
        ? 'upsert with a dummy update: onConflictDoUpdate(set name = name) RETURNING'
        : 'upsert with a dummy update: onDuplicateKeyUpdate(set id = id), then SELECT',
    role: 'idiom',
    baseline: 'floor',
    async op(c, key) {
      const values = { name: key, value: 1 };
      if (family === 'postgres') {
        const upsert = (c.db as AnyPgDatabase).insert(pg).values(values);
        expectRow(
          key,
          (await upsert.onConflictDoUpdate({ target: pg.name, set: { name: key } }).returning())[0],
        );
        return undefined;
      }
      const db = c.db as AnyMySqlDatabase;
      await db
        .insert(my)
        .values(values)
        .onDuplicateKeyUpdate({ set: { id: sql`id` } });
      expectRow(key, (await db.select().from(my).where(eq(my.name, key)).limit(1))[0]);
      return undefined;
    },
  };
}
