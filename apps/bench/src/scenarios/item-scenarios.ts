import { countDuplicates } from '../count-duplicates.js';
import type { ItemTableName } from '../item-tables.js';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin } from '../open-admin.js';
import type { BenchClient, MysqlClient, PostgresClient } from '../open-clients.js';
import type { Contender, InvariantCheck, RunCounts, Scenario } from '../scenario.js';

/** The key mixes that have an items table of their own (`items_<mix>`). */
export type ItemMix = 'existing' | 'hot' | 'cold';

/**
 * A group of key-based scenarios on the items tables, one per mix: what the scenarios of
 * get-or-create, select-for-update-or-create and update-or-create share, so that each of them
 * says only its contenders and its invariant.
 */
export interface ItemScenarioGroup<M extends ItemMix> {
  /** e.g. `get-or-create`: the `--only` name, and the scenario ids are `<name>/<mix>`. */
  name: string;
  title(mix: M): string;
  mixes: readonly M[];
  postgres(mix: M): Contender<PostgresClient>[];
  mysql(mix: M): Contender<MysqlClient>[];
  /** Interleave the contenders' runs (see `Scenario.interleaved`). */
  interleaved?: boolean;
  /** The tables emptied before each run; default the mix's own table. */
  resetTables?(mix: M, table: ItemTableName): readonly string[];
  /** The invariant after a run; default "one row per key" in the mix's table. */
  check?(
    admin: Admin,
    table: ItemTableName,
    contender: Contender<BenchClient>,
    counts: RunCounts,
  ): Promise<InvariantCheck>;
}

/** The scenarios of `group` for one dialect, one per mix, each on its own items table. */
export function itemScenarios<M extends ItemMix>(
  family: 'postgres',
  admin: Admin,
  group: ItemScenarioGroup<M>,
): Scenario<PostgresClient>[];
export function itemScenarios<M extends ItemMix>(
  family: 'mysql',
  admin: Admin,
  group: ItemScenarioGroup<M>,
): Scenario<MysqlClient>[];
export function itemScenarios<M extends ItemMix>(
  family: 'postgres' | 'mysql',
  admin: Admin,
  group: ItemScenarioGroup<M>,
): Scenario<PostgresClient>[] | Scenario<MysqlClient>[] {
  return family === 'postgres'
    ? group.mixes.map((mix) => scenario(admin, group, mix, group.postgres(mix)))
    : group.mixes.map((mix) => scenario(admin, group, mix, group.mysql(mix)));
}

function scenario<M extends ItemMix, C extends BenchClient>(
  admin: Admin,
  group: ItemScenarioGroup<M>,
  mix: M,
  contenders: Contender<C>[],
): Scenario<C> {
  const table: ItemTableName = `items_${mix}`;
  return {
    id: `${group.name}/${mix}`,
    group: group.name,
    title: group.title(mix),
    description: KEY_MIXES[mix].description,
    keys: KEY_MIXES[mix],
    contenders,
    ...(group.interleaved ? { interleaved: true } : {}),
    async reset() {
      for (const name of group.resetTables?.(mix, table) ?? [table])
        await admin.query(`truncate table ${name}`);
    },
    check: (contender, counts) =>
      group.check ? group.check(admin, table, contender, counts) : countDuplicates(admin, table),
  };
}
