import type { ItemMix, ItemTableName } from '../item-tables.js';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin, DriverName, Raw } from '../open-clients.js';
import type { Contender, InvariantCheck, Scenario } from '../scenario.js';

/**
 * What get-or-create, select-for-update-or-create and update-or-create share: a scenario per
 * key mix, each on its own items table, so that each group says only its contenders and its
 * invariant.
 */
export interface ItemScenarioGroup {
  /** The `--only` name; scenario ids are `<name>/<mix>`. */
  name: string;
  mixes: readonly ItemMix[];
  title(mix: ItemMix): string;
  contenders(driver: DriverName, mix: ItemMix): Contender[];
  interleaved?: boolean;
  /** The tables emptied before each run (default: the mix's own). */
  resetTables?(mix: ItemMix): readonly string[];
  /** The invariant (default: one row per key in the mix's table). */
  check?(
    admin: Admin,
    table: ItemTableName,
    contender: Contender,
    succeeded: number,
  ): Promise<InvariantCheck>;
}

export function itemScenarios(
  group: ItemScenarioGroup,
  driver: DriverName,
  admin: Admin,
): Scenario[] {
  return group.mixes.map((mix) => {
    const table: ItemTableName = `items_${mix}`;
    return {
      id: `${group.name}/${mix}`,
      group: group.name,
      title: group.title(mix),
      keys: KEY_MIXES[mix],
      contenders: group.contenders(driver, mix),
      ...(group.interleaved ? { interleaved: true } : {}),
      async reset() {
        for (const name of group.resetTables?.(mix) ?? [table])
          await admin.query(`truncate table ${name}`);
      },
      check: (contender, succeeded) =>
        group.check
          ? group.check(admin, table, contender, succeeded)
          : countDuplicates(admin, table),
    };
  });
}

/** Invariant "one row per key": the rows beyond the first of each name in `table`. */
export async function countDuplicates(admin: Admin, table: string): Promise<InvariantCheck> {
  const [row] = await admin.query<{ total: number | string; distinct_keys: number | string }>(
    `select count(*) as total, count(distinct name) as distinct_keys from ${table}`,
  );
  const rows = Number(row?.total ?? 0);
  const keys = Number(row?.distinct_keys ?? 0);
  const duplicates = rows - keys;
  return {
    held: duplicates === 0,
    anomalies: duplicates,
    detail: `${rows} rows for ${keys} keys${duplicates ? `: ${duplicates} duplicates` : ''}`,
  };
}

/** MySQL: an INSERT's id, or `undefined` when the key is taken (1062 undoes that statement only). */
export async function insertUnlessTaken(tx: Raw, text: string, params: unknown[]) {
  try {
    return (await tx.query(text, params)).insertId ?? 0;
  } catch (error) {
    if ((error as { errno?: number }).errno !== 1062) throw error;
    return undefined;
  }
}
