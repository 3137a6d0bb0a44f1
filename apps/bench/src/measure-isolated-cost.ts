import { setTimeout as sleep } from 'node:timers/promises';
import { getOrCreate } from '@racefree/rows';
import { postgresDialect } from '@racefree/transactions';
import { setDialectForTesting } from '@racefree/transactions/testing';
import { drizzle } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import { postgresItemTables } from './item-tables.js';
import { median } from './latency-summary.js';
import { ProgressBar } from './progress-bar.js';

/** Median µs per call of the bare driver call and of getOrCreate, found and created. */
export interface CallCosts {
  rawFound: number;
  racefreeFound: number;
  rawCreated: number;
  racefreeCreated: number;
}

/** What one call costs the client with no server in the way: warm, and after an idle moment. */
export interface IsolatedCost {
  /** Calls back to back: code and data stay in the CPU's caches. */
  warm: CallCosts;
  /**
   * Each call after a 1 ms idle, as every call at one client is (it waits for its answer):
   * what the same instructions cost once the core has run something else.
   */
  afterIdle: CallCosts;
  /** Timed calls per variant after an idle. */
  samples: number;
}

const SELECT = 'select "id", "name", "value" from "items_existing" where "name" = $1 limit 2';
const INSERT =
  'insert into "items_existing" ("name", "value") values ($1, $2) on conflict ("name") do nothing returning "id", "name", "value"';

/**
 * A stand-in for a postgres.js client that answers every statement at once with the row it
 * asks for: enough for Drizzle's postgres-js driver and racefree's statement path, so the
 * measurement holds only client code (no socket, no server). Not a database: nothing here is
 * used to check behaviour, only to time the code around a statement.
 */
function standInClient() {
  return {
    options: { parsers: {}, serializers: {}, transform: { undefined: undefined } },
    unsafe(_text: string, args: unknown[]): Promise<unknown[]> {
      return Promise.resolve([{ id: '1', name: args[0], value: 1 }]);
    },
  };
}

function checkRow(row: { name?: unknown } | undefined, key: string): void {
  if (row?.name !== key) throw new Error(`isolated cost: wrong row for ${key}`);
}

/**
 * Times getOrCreate's client code against the bare driver call it wraps (the `unsafe` call the
 * floor makes into postgres.js), both on a stand-in client that answers at once
 * (`standInClient`), so no driver, socket or server code runs: the library's own CPU per call, the
 * number the "library cost at 1 client" target is about, without the machine's noise. Warm
 * (calls back to back) and after a 1 ms idle before each call — on this kind of machine the
 * same code costs several times as much once the core has been idle (its caches and TLB hold
 * other work's data by then), and a call at one client always follows an idle wait.
 */
export async function measureIsolatedCost(options: { samples: number }): Promise<IsolatedCost> {
  const client = standInClient();
  const db = drizzle({ client: client as unknown as Sql });
  // No server to probe: the dialect is given, as racefree would find it on PostgreSQL 15.
  setDialectForTesting(
    db,
    postgresDialect({ major: 15, minor: 0, patch: 0, text: '15.0' }, 'read committed'),
  );
  const table = postgresItemTables.items_existing;
  let sequence = 0;
  // The bare driver call, and getOrCreate that wraps it: each call on a fresh key.
  const raw = (text: string, args: (key: string) => unknown[]) => async () => {
    const key = `k${sequence++}`;
    const [row] = (await client.unsafe(text, args(key))) as { name?: unknown }[];
    checkRow(row, key);
  };
  const racefree = (prefer: 'get' | 'create') => async () => {
    const key = `k${sequence++}`;
    const where = { name: key };
    const { row } = await getOrCreate(db, table, { where, defaults: { value: 1 }, prefer });
    checkRow(row, key);
  };
  const variants: Record<keyof CallCosts, () => Promise<void>> = {
    rawFound: raw(SELECT, (key) => [key]),
    racefreeFound: racefree('get'),
    rawCreated: raw(INSERT, (key) => [key, 1]),
    racefreeCreated: racefree('create'),
  };
  const names = Object.keys(variants) as (keyof CallCosts)[];
  // Warm-up: every path compiled by the optimizer.
  for (let i = 0; i < 20_000; i++) for (const name of names) await variants[name]();

  const warm = {} as Record<keyof CallCosts, number[]>;
  const afterIdle = {} as Record<keyof CallCosts, number[]>;
  for (const name of names) {
    warm[name] = [];
    afterIdle[name] = [];
  }
  // Rounds in alternating order, so a slow stretch of the machine lands on every variant.
  const block = Math.max(10, Math.floor(options.samples / 10));
  const rounds = Math.ceil(options.samples / block);
  const progress = new ProgressBar('library cost in isolation (stand-in driver)', rounds);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const run = variants[name];
      const start = process.hrtime.bigint();
      for (let i = 0; i < 2_000; i++) await run();
      warm[name].push(Number(process.hrtime.bigint() - start) / 2_000 / 1000);
      for (let i = 0; i < block; i++) {
        await sleep(1);
        const t0 = process.hrtime.bigint();
        await run();
        afterIdle[name].push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
    progress.step(`round ${round + 1}`);
  }
  const medians = (samples: Record<keyof CallCosts, number[]>): CallCosts =>
    Object.fromEntries(names.map((name) => [name, median(samples[name])])) as unknown as CallCosts;
  const result = {
    warm: medians(warm),
    afterIdle: medians(afterIdle),
    samples: afterIdle.rawFound.length,
  };
  progress.finish(
    `getOrCreate over the bare call, found: warm +${libraryCost(result.warm).found.toFixed(1)} µs, after a 1 ms idle +${libraryCost(result.afterIdle).found.toFixed(1)} µs`,
  );
  return result;
}

/** What getOrCreate adds to the bare driver call (µs per call), found and created. */
export function libraryCost(costs: CallCosts): { found: number; created: number } {
  return {
    found: costs.racefreeFound - costs.rawFound,
    created: costs.racefreeCreated - costs.rawCreated,
  };
}
