/** Which databases to run. */
export type DatabaseChoice = 'postgres' | 'mysql';

/** Scenario groups that can be picked with `--only`. */
export const SCENARIO_GROUPS = [
  'get-or-create',
  'select-for-update-or-create',
  'update-or-create',
  'purchase',
  'jobs',
] as const;

/** What a bench run does. */
export interface BenchOptions {
  mode: 'quick' | 'full';
  databases: DatabaseChoice[];
  clients: number[];
  runs: number;
  warmupMs: number;
  durationMs: number;
  /** Scenario groups to run (all by default). */
  only: string[];
  /** Jobs latency: samples measured, after `latencyWarmup` unmeasured ones. */
  latencySamples: number;
  latencyWarmup: number;
  /** Library cost in isolation: timed calls per variant after an idle moment. */
  isolatedSamples: number;
  resultsDir: string;
  /** Rewrite the results section of apps/bench/README.md. */
  updateReadme: boolean;
}

/** `pnpm bench --help`. */
export const USAGE = `pnpm bench [--quick] [options]

  --quick              smoke run: clients 1 and 8, 3 runs × 150 ms (under 3 minutes)
  --db=postgres,mysql  databases to run (default both; MySQL/MariaDB is skipped if unreachable)
  --clients=1,8,32,64  client counts (each client on its own connection)
  --runs=5             runs per point (ops/s: their median; ratios: the median of the
                       per-run ratios; at least 3; --quick: 3)
  --duration=600       timed window per run, ms (--quick: 150)
  --warmup=300         untimed warm-up before each run, ms
  --only=get-or-create,purchase
                       scenario groups: ${SCENARIO_GROUPS.join(', ')}
  --latency-samples=N  jobs commit → start samples per mode
  --results=DIR        where the JSON / Markdown / SVG go (default apps/bench/results)
  --update-readme      put this run's summary into apps/bench/README.md

Environment: PG_URL or DATABASE_URL (postgres://…; none: an embedded PostgreSQL is started),
MYSQL_URL (default mysql://root@127.0.0.1:3306/test). CI=true makes an unreachable MySQL fatal.`;

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function positive(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} must be an integer ≥ ${min}, got ${value}`);
  return n;
}

/** Parses the command line (`--name=value` or `--name value`); throws on anything unknown. */
export function parseOptions(argv: readonly string[], defaultResultsDir: string): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    mode: quick ? 'quick' : 'full',
    databases: ['postgres', 'mysql'],
    clients: quick ? [1, 8] : [1, 8, 32, 64],
    runs: quick ? 3 : 5,
    warmupMs: quick ? 75 : 300,
    durationMs: quick ? 150 : 600,
    only: [...SCENARIO_GROUPS],
    latencySamples: quick ? 30 : 300,
    latencyWarmup: quick ? 5 : 30,
    isolatedSamples: quick ? 200 : 1500,
    resultsDir: defaultResultsDir,
    updateReadme: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') continue;
    if (arg === '--update-readme') {
      options.updateReadme = true;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unexpected argument ${arg}\n\n${USAGE}`);
    const name = match[1] as string;
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    switch (name) {
      case 'db':
        options.databases = list(value).map((db) => {
          if (db === 'postgres' || db === 'mysql') return db;
          if (db === 'mariadb') return 'mysql';
          throw new Error(`--db: unknown database ${db} (postgres, mysql)`);
        });
        break;
      case 'clients':
        options.clients = list(value).map((n) => positive('--clients', n));
        if (options.clients.some((n) => n > 64))
          throw new Error('--clients: at most 64 (PostgreSQL allows 100 connections in all)');
        break;
      case 'runs':
        options.runs = positive('--runs', value, 3);
        break;
      case 'duration':
        options.durationMs = positive('--duration', value, 50);
        break;
      case 'warmup':
        options.warmupMs = positive('--warmup', value, 0);
        break;
      case 'only':
        options.only = list(value);
        for (const group of options.only)
          if (!(SCENARIO_GROUPS as readonly string[]).includes(group))
            throw new Error(
              `--only: unknown scenario group ${group} (${SCENARIO_GROUPS.join(', ')})`,
            );
        break;
      case 'latency-samples':
        options.latencySamples = positive('--latency-samples', value);
        break;
      case 'results':
        options.resultsDir = value;
        break;
      default:
        throw new Error(`unknown option --${name}\n\n${USAGE}`);
    }
  }
  return options;
}
