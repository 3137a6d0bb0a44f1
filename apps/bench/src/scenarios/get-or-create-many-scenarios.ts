import { randomInt } from 'node:crypto';
import { getOrCreate, getOrCreateMany } from '@racefree/rows';
import { useInsertBlocks, useRecordSets } from '@racefree/rows/testing';
import { expectRow } from '../expect-row.js';
import { type ItemRow, itemTables, MANY_TABLE } from '../item-tables.js';
import { EXISTING_KEYS, KEY_MIXES } from '../key-mix.js';
import { type Admin, type BenchClient, type DriverName, familyOf } from '../open-clients.js';
import type { Contender, ContenderRole, Scenario } from '../scenario.js';
import { countDuplicates } from './item-scenarios.js';

/** Keys per call: an operation here settles this many rows. */
const KEYS_PER_CALL = 100;
/** How many of a call's keys are new; the rest are rows that exist. */
const NEW_KEYS = { 'mostly-existing': 10, 'mostly-new': 90 } as const;
type Mix = keyof typeof NEW_KEYS;

/** One call of a contender: whether it created each key's row, if it can tell. */
type Call = (c: BenchClient, keys: string[]) => Promise<boolean[] | undefined>;
/** A contender: [id, label, role, baseline, keys a call, call]. */
type Spec = [string, string, ContenderRole, string | undefined, number, Call];

/**
 * Batch `seq` of a contender: new keys in its own namespace (`n<tag>.`), so that each
 * contender's rows can be counted apart, and existing ones, shuffled. A tenth of the new keys
 * are the next batch's too, which runs at the same time on another client: overlapping
 * concurrent batches, where hand-written bulk inserts deadlock.
 */
function keysOfCall(mix: Mix, tag: number, seq: number): string[] {
  const fresh = NEW_KEYS[mix];
  const stride = fresh - fresh / 10;
  const unique = new Set<string>();
  for (let i = 0; i < fresh; i++) unique.add(`n${tag}.${seq * stride + i}`);
  while (unique.size < KEYS_PER_CALL) unique.add(`e${randomInt(EXISTING_KEYS)}`);
  // Shuffled, so that the loop, one key an operation, meets new and existing keys evenly in
  // time, however short the window.
  const keys = [...unique];
  for (let i = keys.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  return keys;
}

const placeholders = (row: string) => Array.from({ length: KEYS_PER_CALL }, () => row).join(', ');

/**
 * The hand-written floor, keys sorted as any bulk insert must be to avoid deadlocking an
 * overlapping one. PostgreSQL: `INSERT … ON CONFLICT DO NOTHING RETURNING` (what it returns
 * was created), then one SELECT of the rest. MySQL/MariaDB: `INSERT IGNORE` would turn data
 * errors into warnings, so `ON DUPLICATE KEY UPDATE name = name`, then a SELECT of all the
 * keys; it cannot tell which rows it created. Not `id = id`: on MariaDB 10.11 overlapping
 * batches that set the auto-increment column lose rows, reported as duplicates (bench log,
 * 2026-12-07 "get-or-create-many").
 */
function floorCall(driver: DriverName): { label: string; call: Call } {
  const insert = `insert into ${MANY_TABLE} (name, value) values ${placeholders('(?, 1)')}`;
  const byName = (keys: string[], rows: ItemRow[]) => {
    const rowOf = new Map(rows.map((row) => [row.name, row]));
    for (const key of keys) expectRow(key, rowOf.get(key));
  };
  if (familyOf(driver) === 'mysql')
    return {
      label:
        'raw floor: INSERT … ON DUPLICATE KEY UPDATE name = name (sorted keys), SELECT … IN (all): cannot tell what it created; swallows a conflict on any other unique key too',
      async call(c, keys) {
        const sorted = [...keys].sort();
        await c.raw.query(`${insert} on duplicate key update name = name`, sorted);
        const text = `select * from ${MANY_TABLE} where name in (${placeholders('?')})`;
        byName(keys, (await c.raw.query<ItemRow>(text, sorted)).rows);
        return undefined;
      },
    };
  return {
    label:
      'raw floor: INSERT … ON CONFLICT DO NOTHING RETURNING (sorted keys), SELECT … = ANY (the rest)',
    async call(c, keys) {
      const sorted = [...keys].sort();
      const text = `${insert} on conflict (name) do nothing returning *`;
      const created = (await c.raw.query<ItemRow>(text, sorted)).rows;
      const made = new Set(created.map((row) => row.name));
      const rest = sorted.filter((key) => !made.has(key));
      const select = `select * from ${MANY_TABLE} where name = any(?)`;
      const found = rest.length ? (await c.raw.query<ItemRow>(select, [rest])).rows : [];
      byName(keys, [...created, ...found]);
      return keys.map((key) => made.has(key));
    },
  };
}

/** What one contender's calls did since the last reset. */
interface Ledger {
  /** Batches handed out: each batch's keys overlap the next one's. */
  batches: number;
  /** Per client, the keys of its batch the loop has still to ask for. */
  queues: Map<number, string[]>;
  /** Whether its calls say what they created (the MySQL floor cannot). */
  tells: boolean;
  created: Set<string>;
  /** Keys two calls both said they created. */
  twice: number;
  failedCalls: number;
}

/**
 * Issue #23: get-or-create of 100 keys a call, mostly existing and mostly new, outside any
 * transaction. racefree `getOrCreateMany` against 100 `getOrCreate` calls in a loop (the same
 * keys) and the hand-written floor on the same driver. Invariant: one row per key, every call
 * gets every key's row (else `WRONG_ROW`), and each row created is said to be created by
 * exactly one call. `quick`: mostly new keys only (they race the most), for the 3-minute smoke
 * run.
 */
export function getOrCreateManyScenarios(
  driver: DriverName,
  admin: Admin,
  quick: boolean,
): Scenario[] {
  const table = itemTables(familyOf(driver))[MANY_TABLE];
  const mixes: Mix[] = quick ? ['mostly-new'] : ['mostly-existing', 'mostly-new'];
  return mixes.map((mix) => {
    const prefer = mix === 'mostly-new' ? 'create' : 'get';
    const floor = floorCall(driver);
    const manyCall: Call = async (c, keys) => {
      const where = keys.map((name) => ({ name }));
      const results = await getOrCreateMany(c.db, table, { where, defaults: { value: 1 } });
      return keys.map((key, i) => {
        expectRow(key, results[i]?.row);
        return results[i]?.created === true;
      });
    };
    const specs: Spec[] = [
      [
        'racefree',
        'racefree getOrCreateMany (outside a transaction)',
        'racefree',
        'floor',
        KEYS_PER_CALL,
        manyCall,
      ],
      [
        // The same-run A/B the faster path must win by ≥ 10% to stay — record sets on
        // PostgreSQL, insert blocks on MariaDB (contenders run one at a time, so the switch
        // holds for the slice).
        'racefree-plain',
        familyOf(driver) === 'postgres'
          ? 'racefree getOrCreateMany, plain path (no record sets: a parameter per value)'
          : 'racefree getOrCreateMany, plain path (no insert blocks: one INSERT per row)',
        'reference',
        'racefree',
        KEYS_PER_CALL,
        async (c, keys) => {
          useRecordSets(false);
          useInsertBlocks(false);
          try {
            return await manyCall(c, keys);
          } finally {
            useRecordSets(true);
            useInsertBlocks(true);
          }
        },
      ],
      [
        // An operation per call, so that a loop 100 calls long is counted as it goes, not
        // only where it ends inside a window; each client still asks for a batch's keys in
        // turn, one by one.
        'racefree-loop',
        `100 racefree getOrCreate calls in a loop, one an operation (prefer: '${prefer}')`,
        'racefree',
        'racefree',
        1,
        async (c, [name = '']) => {
          const where = { name };
          const result = await getOrCreate(c.db, table, { where, defaults: { value: 1 }, prefer });
          expectRow(name, result.row);
          return [result.created];
        },
      ],
      ['floor', floor.label, 'floor', undefined, KEYS_PER_CALL, floor.call],
    ];
    const ledgers = new Map<string, Ledger>();
    const contenders = specs.map(
      ([id, label, role, baseline, perCall, call], tag): Contender => ({
        id,
        label,
        role,
        ...(baseline ? { baseline } : {}),
        async op(c) {
          const ledger = ledgers.get(id) ?? {
            batches: 0,
            queues: new Map(),
            tells: false,
            created: new Set(),
            twice: 0,
            failedCalls: 0,
          };
          ledgers.set(id, ledger);
          let queue = ledger.queues.get(c.index) ?? [];
          if (queue.length === 0) queue = keysOfCall(mix, tag, ledger.batches++);
          const keys = queue.splice(0, perCall);
          ledger.queues.set(c.index, queue);
          const created = await call(c, keys).catch((error: unknown) => {
            ledger.failedCalls += 1;
            throw error;
          });
          if (!created) return { keys: keys.length };
          ledger.tells = true;
          let count = 0;
          created.forEach((made, i) => {
            if (!made) return;
            const key = keys[i] as string;
            count += 1;
            if (ledger.created.has(key)) ledger.twice += 1;
            else ledger.created.add(key);
          });
          return { created: count, keys: keys.length };
        },
      }),
    );
    const fresh = NEW_KEYS[mix];
    return {
      id: `get-or-create-many/${mix}`,
      group: 'get-or-create-many',
      title: `get-or-create-many, ${mix.replace('-', ' ')} keys`,
      keys: {
        ...KEY_MIXES.none,
        description: `${KEYS_PER_CALL} keys a call: ${fresh} new (${fresh / 10} of them the next call's too, which runs alongside) and ${KEYS_PER_CALL - fresh} of ${EXISTING_KEYS.toLocaleString('en')} rows that exist. ops/s counts rows (keys settled): a call of ${KEYS_PER_CALL} keys counts ${KEYS_PER_CALL}; latency, stmts/op, RT/op and cpu µs/op are per call`,
      },
      contenders,
      async reset() {
        ledgers.clear();
        // Emptied and refilled, not deleted from: a DELETE leaves InnoDB delete-marked records
        // (re-inserting their keys can deadlock: the rows README's trap) and purge or vacuum
        // work that would run inside the next windows.
        await admin.query(`truncate table ${MANY_TABLE}`);
        await admin.query(
          `insert into ${MANY_TABLE} (name, value) select name, value from items_existing`,
        );
      },
      async check(contender) {
        const duplicates = await countDuplicates(admin, MANY_TABLE);
        const ledger = ledgers.get(contender.id);
        if (!ledger?.tells) return duplicates;
        const tag = contenders.indexOf(contender);
        const [row] = await admin.query<{ n: number | string }>(
          `select count(*) as n from ${MANY_TABLE} where name like ?`,
          [`n${tag}.%`],
        );
        const rows = Number(row?.n ?? 0);
        const said = ledger.created.size;
        // A failed call may have written rows it never reported: only the reverse is wrong then.
        const off = ledger.failedCalls ? Math.max(0, said - rows) : Math.abs(rows - said);
        const anomalies = duplicates.anomalies + ledger.twice + off;
        const failed = ledger.failedCalls ? `, ${ledger.failedCalls} calls failed` : '';
        return {
          held: anomalies === 0,
          anomalies,
          detail: `${duplicates.detail}; ${rows} rows created, ${said} said created${ledger.twice ? `, ${ledger.twice} by two calls` : ''}${failed}`,
        };
      },
    };
  });
}
