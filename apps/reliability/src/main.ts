import { AppProcess } from './app-process.js';
import { checkLogsForSecrets } from './check-logs-for-secrets.js';
import type { CheckResult } from './check-result.js';
import { redactUrl } from '@racefree/testkit/redact-url';
import { DATABASE_LABEL, type Servers } from './deployment.js';
import { formatResultsTable } from './format-results-table.js';
import { locateMysql, locatePostgres } from './locate-servers.js';
import { MysqlServer } from './mysql-server.js';
import { parseOptions, type ReliabilityOptions } from './parse-options.js';
import { PostgresServer } from './postgres-server.js';
import { progress } from './progress.js';
import { reliabilitySettings } from './reliability-settings.js';
import type { Scenario } from './scenario.js';
import { SCENARIOS } from './scenarios/index.js';

// `pnpm reliability [--quick]`: the real web and worker processes, real signals, real
// databases; a table of what held. Exit 1 if anything did not.

let options: ReliabilityOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
AppProcess.echoOutput(options.verbose);
// Children run in their own process groups: never leave one behind, however this ends.
process.on('exit', () => AppProcess.killAll());

const startedAt = Date.now();
const settings = reliabilitySettings(options.quick);
const results: CheckResult[] = [];
const ci = process.env.CI === 'true';
progress(`racefree reliability (${options.quick ? 'quick' : 'full'} run)`);

const pg = await locatePostgres(process.env, (line) => progress(line));
let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) process.exit(130);
  interrupted = true;
  progress(`${signal}: stopping the apps and the run`);
  AppProcess.killAll();
  void pg.embedded?.stop().finally(() => process.exit(130));
  if (!pg.embedded) process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

progress(`PostgreSQL: ${redactUrl(pg.url)}${pg.embedded ? ' (embedded)' : ''}`);
const mysqlProbe = await locateMysql(process.env);
let servers: Servers | undefined;
try {
  servers = {
    postgres: await PostgresServer.open(pg.url),
    mysql: mysqlProbe.reachable ? await MysqlServer.open(mysqlProbe.url) : undefined,
  };
  if (mysqlProbe.reachable) progress(`MariaDB: ${redactUrl(mysqlProbe.url)}`);
  else {
    const line = `MariaDB at ${redactUrl(mysqlProbe.url)} is unreachable (${mysqlProbe.reason}): the MariaDB scenarios are SKIPPED`;
    progress(`!!! ${line}${ci ? ' — a failure under CI=true' : ''}`);
    if (ci)
      results.push({
        fault: 'MariaDB scenarios',
        attempts: 0,
        invariant: 'MariaDB reachable (required under CI=true)',
        held: false,
        detail: line,
      });
  }

  const chosen: Scenario[] = SCENARIOS.filter(
    (scenario) => !options.only || options.only.includes(scenario.name),
  );
  if (options.only)
    for (const name of options.only)
      if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`no scenario named ${name}`);
  for (const scenario of chosen) {
    for (const kind of scenario.kinds) {
      if (kind === 'mysql' && !servers.mysql) continue;
      const label = DATABASE_LABEL[kind];
      const scenarioStart = Date.now();
      progress(`▶ ${scenario.name} on ${label}`);
      const before = results.length;
      try {
        await scenario.run({ settings, servers, record: (result) => results.push(result) }, kind);
      } catch (error) {
        results.push({
          fault: `${scenario.name} (${label})`,
          attempts: 0,
          invariant: 'the scenario ran to completion',
          held: false,
          detail: (error as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(error),
        });
      }
      const added = results.slice(before);
      const failed = added.filter((r) => !r.held).length;
      progress(
        `  ${failed === 0 ? 'held' : `${failed} did NOT hold`}: ${added.length} invariant(s) in ${((Date.now() - scenarioStart) / 1000).toFixed(1)} s`,
      );
    }
  }
  results.push(
    checkLogsForSecrets(AppProcess.all(), [
      ...servers.postgres.secrets,
      ...(servers.mysql?.secrets ?? []),
    ]),
  );
} catch (error) {
  results.push({
    fault: 'the reliability run',
    attempts: 0,
    invariant: 'set-up and scenarios ran',
    held: false,
    detail: (error as Error).stack ?? String(error),
  });
} finally {
  AppProcess.killAll();
  await servers?.postgres.close().catch(() => undefined);
  await servers?.mysql?.close().catch(() => undefined);
  await pg.embedded?.stop();
}

console.log('');
console.log(formatResultsTable(results));
const failed = results.filter((r) => !r.held).length;
console.log('');
console.log(
  `${results.length - failed} held, ${failed} did not hold — ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
);
process.exit(failed === 0 ? 0 : 1);
