import { ConfigError, ConnectionRefusedError, redactUrl } from '@racefree/bookstore';
import pg from 'pg';
import { loadConfig } from './config.js';
import { parseDuration } from './parse-duration.js';
import { type UnlockDeadWorkersOptions, unlockDeadWorkers } from './unlock-dead-workers.js';

// `pnpm --filter worker unlock-dead-workers [--min-age 60s] [--older-than 30m] [--dry-run]`:
// frees the jobs a SIGKILLed (or crashed) worker left locked, so they run now instead of in
// 4 hours. Reads DATABASE_URL / QUEUE_DATABASE_URL like the worker. One line per worker id
// holding locks, then a summary; exit 0, or 1 with one line on a configuration or
// connection error (password hidden).

const USAGE = `usage: unlock-dead-workers [--min-age <duration>] [--older-than <duration>] [--dry-run]
  --min-age     leave alone workers whose oldest lock is younger than this (default 60s)
  --older-than  also unlock workers that look alive if their oldest lock is older (default: never)
  --dry-run     report, change nothing
durations: 250ms, 90s, 15m, 4h`;

function parseArgs(argv: readonly string[]): UnlockDeadWorkersOptions {
  const options: UnlockDeadWorkersOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new ConfigError(`${arg} needs a value\n${USAGE}`);
      return parseDuration(next);
    };
    if (arg === '--min-age') options.minAgeMs = value();
    else if (arg === '--older-than') options.olderThanMs = value();
    else if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg !== '--') throw new ConfigError(`unknown argument ${arg}\n${USAGE}`);
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const { queueUrl } = loadConfig();
  const client = new pg.Client({ connectionString: queueUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new ConnectionRefusedError(
      `cannot use the queue database at ${redactUrl(queueUrl)}: ${(error as Error).message}`,
    );
  }
  try {
    const workers = await unlockDeadWorkers(client, options);
    for (const w of workers)
      console.log(
        `${w.action} ${w.workerId}: ${w.jobs} job(s), ${w.queues} queue lock(s), oldest lock ${(w.ageMs / 1000).toFixed(1)} s old — ${w.reason}`,
      );
    const unlocked = workers.filter((w) => w.action !== 'kept');
    console.log(
      `${options.dryRun ? 'would unlock' : 'unlocked'} ${unlocked.length} worker(s) (${unlocked.reduce((n, w) => n + w.jobs, 0)} job(s)); kept ${workers.length - unlocked.length}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof ConnectionRefusedError;
  console.error(
    known ? (error as Error).message : `unlock-dead-workers failed: ${(error as Error)?.message}`,
  );
  process.exit(1);
});
