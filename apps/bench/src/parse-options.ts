import { parseArgs } from 'node:util';
import { DRIVERS, type DriverName } from './open-clients.js';

export const SCENARIO_GROUPS = [
  'get-or-create',
  'get-or-create-many',
  'select-for-update-or-create',
  'update-or-create',
  'purchase',
  'idempotency',
  'jobs',
] as const;
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

/** `--db` names: a database, or one driver of it. */
const DB_CHOICES: Record<string, readonly DriverName[]> = {
  postgres: ['postgres.js', 'node-postgres'],
  mysql: ['mysql2'],
  mariadb: ['mysql2'],
  ...Object.fromEntries(DRIVERS.map((d) => [d, [d]])),
};

export interface BenchOptions {
  mode: 'quick' | 'full';
  drivers: DriverName[];
  clients: number[];
  runs: number;
  warmupMs: number;
  durationMs: number;
  /** Each run from a collected heap: the full run's CPU numbers need it, a smoke run not. */
  collectGarbage: boolean;
  only: ScenarioGroup[];
  /** Jobs latency: samples per mode, after `latencyWarmup` unmeasured ones. */
  latencySamples: number;
  latencyWarmup: number;
  resultsDir: string;
  /** Rewrite the Latest results section of apps/bench/README.md. */
  updateReadme: boolean;
}

export const USAGE = `pnpm bench [--quick] [options]

  --quick              smoke run: clients 1 and 8, 3 runs × 70 ms (under 3 minutes)
  --db=postgres,mysql  databases (default both; MySQL/MariaDB is skipped if unreachable),
                       or drivers: ${DRIVERS.join(', ')}
  --clients=1,8,32,64  client counts (each client on its own connection; at most 64)
  --runs=5             runs per point (ops/s: their median; a ratio: the median of the
                       per-run ratios; at least 3)
  --duration=600       timed window per run, ms (--quick: 70)
  --warmup=300         untimed warm-up before each run, ms (--quick: 30)
  --only=get-or-create,purchase
                       scenario groups: ${SCENARIO_GROUPS.join(', ')}
  --latency-samples=N  jobs commit → task start samples per mode (--quick: 30)
  --results=DIR        where the JSON / Markdown / SVG go (default apps/bench/results)
  --update-readme      put this run's summary into apps/bench/README.md

Environment: PG_URL or DATABASE_URL (postgres://…; none: an embedded PostgreSQL is started),
MYSQL_URL (default mysql://root@127.0.0.1:3306/test). CI=true makes an unreachable MySQL fatal.`;

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

function integer(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
}

function pick<T extends string>(name: string, value: string, known: readonly T[]): T {
  if (!known.includes(value as T))
    throw new Error(`--${name}: unknown ${value} (${known.join(', ')})`);
  return value as T;
}

/** Parses the command line (`--name=value` or `--name value`); throws on anything unknown. */
export function parseOptions(argv: string[], defaultResultsDir: string): BenchOptions {
  const text = { type: 'string' } as const;
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    options: {
      quick: { type: 'boolean' },
      'update-readme': { type: 'boolean' },
      ...Object.fromEntries(
        ['db', 'clients', 'runs', 'duration', 'warmup', 'only', 'latency-samples', 'results'].map(
          (name) => [name, text],
        ),
      ),
    },
  }) as { values: Record<string, string | boolean | undefined> };
  const get = (name: string) => values[name] as string | undefined;
  const quick = values.quick === true;
  const clients = get('clients') ? list(get('clients') as string) : [];
  const chosen = list(get('db') ?? 'postgres,mysql').flatMap(
    (db) => DB_CHOICES[pick('db', db, Object.keys(DB_CHOICES))] ?? [],
  );
  const options: BenchOptions = {
    mode: quick ? 'quick' : 'full',
    drivers: DRIVERS.filter((d) => chosen.includes(d)),
    clients: clients.length
      ? clients.map((n) => integer('clients', n, 1))
      : quick
        ? [1, 8]
        : [1, 8, 32, 64],
    runs: integer('runs', get('runs'), quick ? 3 : 5, 3),
    warmupMs: integer('warmup', get('warmup'), quick ? 30 : 300, 0),
    durationMs: integer('duration', get('duration'), quick ? 70 : 600, 50),
    collectGarbage: !quick,
    only: get('only')
      ? list(get('only') as string).map((g) => pick('only', g, SCENARIO_GROUPS))
      : [...SCENARIO_GROUPS],
    latencySamples: integer('latency-samples', get('latency-samples'), quick ? 30 : 300),
    latencyWarmup: quick ? 5 : 30,
    resultsDir: get('results') ?? defaultResultsDir,
    updateReadme: values['update-readme'] === true,
  };
  if (options.clients.some((n) => n > 64))
    throw new Error('--clients: at most 64 (PostgreSQL allows 100 connections in all)');
  return options;
}
