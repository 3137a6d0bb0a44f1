// `pnpm bench`: racefree against raw-SQL floors and the naive code people write, on PostgreSQL
// (postgres.js and node-postgres) and MySQL/MariaDB (mysql2). Progress goes to stderr, the
// tables to stdout, the files to results/.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatabaseReport } from './bench-report.js';
import { type BenchOptions, parseOptions, USAGE } from './parse-options.js';
import { probeMysqlServer } from './probe-mysql-server.js';
import { formatTables } from './render-tables.js';
import { runReport, type Server } from './run-report.js';
import { startPostgresServer } from './start-postgres-server.js';
import { updateReadme, type WrittenResults, writeResults } from './write-results.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), join(appDir, 'results'));
  } catch (error) {
    process.stderr.write(`pnpm bench: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const started = performance.now();
  process.stderr.write(
    `racefree bench (${options.mode}): ${options.drivers.join(', ')}; clients ${options.clients.join(', ')}, ${options.runs} runs × ${options.durationMs} ms per point\n`,
  );
  let exitCode = 0;
  const reports: DatabaseReport[] = [];
  // Also the MySQL outbox's queue server.
  const postgres = await startPostgresServer();
  process.stderr.write(`PostgreSQL: ${postgres.server} (${postgres.origin})\n`);
  const pgServer: Server = { kind: 'postgres', server: postgres.server, url: postgres.url };
  const stopOnSignal = () => {
    process.stderr.write(
      '\ninterrupted: stopping the embedded server (bench databases may remain)\n',
    );
    void postgres.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    for (const driver of options.drivers) {
      if (driver !== 'mysql2') {
        reports.push(await runReport(pgServer, driver, options, pgServer));
        continue;
      }
      const mysql = await probeMysqlServer();
      if (mysql.available) {
        reports.push(await runReport(mysql, driver, options, pgServer));
        continue;
      }
      const line = `!!! SKIPPING MySQL/MariaDB: ${mysql.reason}. Set MYSQL_URL to bench it.`;
      process.stderr.write(`\n${'!'.repeat(line.length)}\n${line}\n${'!'.repeat(line.length)}\n`);
      if (process.env.CI === 'true') exitCode = 1;
    }
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    process.removeListener('SIGTERM', stopOnSignal);
    await postgres.stop();
  }

  const written: { report: DatabaseReport; files: WrittenResults }[] = [];
  for (const report of reports) {
    console.log(formatTables(report));
    written.push({ report, files: await writeResults(report, options.resultsDir) });
  }
  if (options.updateReadme) await updateReadme(join(appDir, 'README.md'), written);
  process.stderr.write('\n');
  for (const { files } of written) process.stderr.write(`results: ${files.json} (.md, .svg)\n`);
  // Speed is never a failure; racefree breaking an invariant always is (the controls break
  // theirs by design), and so is a point that could not run.
  const broken = reports.flatMap((report) =>
    report.scenarios.flatMap((scenario) =>
      scenario.points.flatMap((point) => [
        ...(point.failure
          ? [`${scenario.title} @ ${point.clients}: did not run (${point.failure})`]
          : []),
        ...point.contenders
          .filter((c) => c.role === 'racefree' && !c.invariantHeld)
          .map(
            (c) =>
              `${scenario.title} @ ${point.clients}: ${c.label} broke its invariant (${c.invariantDetail})`,
          ),
      ]),
    ),
  );
  for (const line of broken) process.stderr.write(`!!! ${line}\n`);
  process.stderr.write(
    `bench finished in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return broken.length > 0 ? 1 : exitCode;
}

/** A pool or timer left behind by a library must not keep a finished bench alive. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 5000).unref();
}

main().then(exitSoon, (error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  exitSoon(1);
});
