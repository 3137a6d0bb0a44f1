/** Command-line options of the reliability program. */
export interface ReliabilityOptions {
  /** `--quick`: the CI smoke run (fewer rounds, under 3 minutes on 2 cores). */
  quick: boolean;
  /** `--only web-kill,health`: run just these scenarios. */
  only: string[] | undefined;
  /** `--verbose`: echo every line the apps write. */
  verbose: boolean;
}

/** The usage text. */
export const USAGE = `usage: pnpm reliability [--quick] [--only <scenario,…>] [--verbose]
scenarios: web-kill, keyed-retries, scale-out, worker-stop, relay-kill, start-up, health
environment: PG_URL or DATABASE_URL (PostgreSQL; an embedded server when none answers),
             MYSQL_URL (MariaDB; skipped loudly when unreachable, a failure under CI=true)`;

/** Parses argv; throws an Error with the usage on a bad argument. */
export function parseOptions(argv: readonly string[]): ReliabilityOptions {
  const options: ReliabilityOptions = { quick: false, only: undefined, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--quick') options.quick = true;
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.includes('=') ? arg.slice('--only='.length) : argv[++i];
      if (!value) throw new Error(`--only needs a scenario list\n${USAGE}`);
      options.only = value.split(',').map((name) => name.trim());
    } else if (arg === '--') continue;
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return options;
}
