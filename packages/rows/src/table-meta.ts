import { InvalidArgumentError } from '@racefree/transactions';
import { type Family } from '@racefree/transactions/internal';
import { type Column, getTableColumns, is, SQL, Table } from 'drizzle-orm';
import { getTableConfig as getMySqlTableConfig, MySqlTable } from 'drizzle-orm/mysql-core';
import { getTableConfig as getPgTableConfig, PgTable } from 'drizzle-orm/pg-core';

/** A Drizzle table of either dialect. */
export type AnyTable = PgTable | MySqlTable;

/** A set of columns the database keeps unique (primary key, unique constraint or unique index). */
export interface UniqueKey {
  /** Property keys of the columns, in declaration order. */
  keys: string[];
  columns: Column[];
  /** Constraint or index name as the server reports it in duplicate-key errors, when known. */
  name: string | undefined;
  primary: boolean;
  /** Not enforced by the database (the caller opted out with allowWithoutUniqueKey). */
  unenforced?: boolean;
}

/** What the helpers need to know about a table, read once from its Drizzle definition. */
export interface TableMeta {
  table: AnyTable;
  family: Family;
  /** Display name for messages, e.g. `public.books`. */
  displayName: string;
  /** The table's name on the server, without its schema. */
  name: string;
  /** The schema (PostgreSQL) or database (MySQL) the table is declared in, if any. */
  schema: string | undefined;
  /** Property key → column. */
  columns: Map<string, Column>;
  primaryKey: UniqueKey | undefined;
  /** Every unique key, narrowest first (primary first on ties): the order `coveringKey` picks in. */
  uniqueKeys: UniqueKey[];
  /** The columns in declaration order, with their property keys: what `mapRow` walks. */
  columnList: { key: string; column: Column }[];
}

const cache = new WeakMap<object, TableMeta>();

/** Reads (once) the columns and unique keys of a Drizzle table; refuses anything else. */
export function tableMeta(table: unknown): TableMeta {
  const cached = cache.get(table as object);
  if (cached) return cached;
  if (!is(table, Table))
    throw new InvalidArgumentError('Expected a Drizzle table (pgTable / mysqlTable)');
  const meta = is(table, PgTable)
    ? readPg(table)
    : is(table, MySqlTable)
      ? readMySql(table)
      : undefined;
  if (!meta)
    throw new InvalidArgumentError('Only PostgreSQL and MySQL Drizzle tables are supported');
  cache.set(table as object, meta);
  return meta;
}

type Config = {
  name: string;
  schema?: string | undefined;
  columns: Column[];
  primaryKeys: { columns: Column[]; getName(): string }[];
  uniqueConstraints: {
    columns: Column[];
    getName(): string | undefined;
    name?: string | undefined;
  }[];
  indexes: { config: { name?: string; unique?: boolean; columns: unknown[]; where?: unknown } }[];
};

function readPg(table: PgTable): TableMeta {
  return build(table, 'postgres', getPgTableConfig(table) as unknown as Config, (t) => `${t}_pkey`);
}

function readMySql(table: MySqlTable): TableMeta {
  return build(table, 'mysql', getMySqlTableConfig(table) as unknown as Config, () => 'PRIMARY');
}

function build(
  table: AnyTable,
  family: Family,
  config: Config,
  primaryName: (table: string) => string,
): TableMeta {
  const columns = new Map(Object.entries(getTableColumns(table)) as [string, Column][]);
  const keyOfColumnName = new Map([...columns].map(([key, column]) => [column.name, key]));
  const keyOf = (column: { name: string }) => keyOfColumnName.get(column.name);
  const toKey = (
    cols: { name: string }[],
    name: string | undefined,
    primary: boolean,
  ): UniqueKey | undefined => {
    const keys = cols.map(keyOf);
    if (keys.length === 0 || keys.some((k) => k === undefined)) return undefined;
    return {
      keys: keys as string[],
      columns: (keys as string[]).map((k) => columns.get(k) as Column),
      name,
      primary,
    };
  };
  const found: UniqueKey[] = [];
  const inlinePrimary = [...columns.values()].filter((c) => c.primary);
  const primaryKey =
    inlinePrimary.length > 0
      ? toKey(inlinePrimary, primaryName(config.name), true)
      : config.primaryKeys[0]
        ? toKey(
            config.primaryKeys[0].columns,
            family === 'mysql' ? 'PRIMARY' : config.primaryKeys[0].getName(),
            true,
          )
        : undefined;
  if (primaryKey) found.push(primaryKey);
  for (const column of columns.values()) {
    if (column.isUnique) found.push(toKey([column], column.uniqueName, false) as UniqueKey);
  }
  for (const constraint of config.uniqueConstraints) {
    const key = toKey(constraint.columns, constraint.getName?.() ?? constraint.name, false);
    if (key) found.push(key);
  }
  for (const index of config.indexes) {
    // Partial and expression indexes cannot vouch for uniqueness of plain equality lookups.
    if (!index.config.unique || index.config.where) continue;
    if (
      index.config.columns.some(
        (c) => is(c, SQL) || typeof (c as { name?: unknown }).name !== 'string',
      )
    )
      continue;
    const key = toKey(index.config.columns as { name: string }[], index.config.name, false);
    if (key) found.push(key);
  }
  // Sorted once here rather than per call; a stable sort keeps discovery order on ties.
  const uniqueKeys = found.sort(
    (a, b) => a.keys.length - b.keys.length || Number(b.primary) - Number(a.primary),
  );
  return {
    table,
    family,
    displayName: config.schema ? `${config.schema}.${config.name}` : config.name,
    name: config.name,
    schema: config.schema,
    columns,
    primaryKey,
    uniqueKeys,
    columnList: [...columns].map(([key, column]) => ({ key, column })),
  };
}

/**
 * The unique key `where` covers: all its columns present with non-null values. The narrowest
 * wins (primary key first on ties), so conflict handling targets exactly one index.
 */
export function coveringKey(
  meta: TableMeta,
  where: Record<string, unknown>,
): UniqueKey | undefined {
  // Every helper call asks: a loop over the keys, already in order, allocates nothing.
  for (const key of meta.uniqueKeys) {
    let covered = true;
    for (const k of key.keys) {
      if (where[k] === undefined || where[k] === null) {
        covered = false;
        break;
      }
    }
    if (covered) return key;
  }
  return undefined;
}

/**
 * Maps a raw database row whose columns are selected `as` their property keys (driver values)
 * to JS values, as Drizzle would.
 */
export function mapRow(meta: TableMeta, raw: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const { key, column } of meta.columnList) {
    // Own properties only: a driver row inherits from Object.prototype, and a column named
    // like one of its members (`valueOf`), left out of a partial select, must stay absent.
    if (!Object.hasOwn(raw, key)) continue;
    const value = raw[key];
    if (value === undefined) continue;
    row[key] = value === null ? null : column.mapFromDriverValue(value);
  }
  return row;
}
