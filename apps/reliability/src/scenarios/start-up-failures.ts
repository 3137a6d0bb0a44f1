import { AppProcess } from '../app-process.js';
import { CleanupStack } from '../cleanup-stack.js';
import { databaseUrl } from '../database-url.js';
import { createDeployment, DATABASE_LABEL, type DatabaseKind } from '../deployment.js';
import { freePort } from '@racefree/testkit/free-port';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { stopRunningApps } from '../stop-running-apps.js';

/** One bad configuration and what the apps must say about it. */
interface StartUpCase {
  /** The input class, for the table. */
  input: string;
  /** The bad URL: its password must be hidden, and its redacted form named by the lines. */
  databaseUrl: string;
  /** QUEUE_DATABASE_URL: the same bad URL on PostgreSQL, the good queue on MariaDB. */
  queueUrl: string;
  password: string;
  /** Lines expected (one per connection attempt; one for a refusal). */
  lines: number;
}

const APPS = {
  web: { script: 'apps/web/dist/main.js', attemptsVariable: 'DATABASE_CONNECT_ATTEMPTS' },
  worker: { script: 'apps/worker/dist/main.js', attemptsVariable: 'WORKER_CONNECT_ATTEMPTS' },
} as const;

/** `url` as the apps must show it: the password replaced by `***` (textually, malformed or not). */
function masked(url: string, password: string): string {
  return url.replace(`:${password}@`, ':***@');
}

async function runCase(
  context: ScenarioContext,
  kind: DatabaseKind,
  app: keyof typeof APPS,
  testCase: StartUpCase,
): Promise<void> {
  const startedAt = Date.now();
  const process = AppProcess.start({
    name: `${app} (${testCase.input})`,
    script: APPS[app].script,
    env: {
      DATABASE_URL: testCase.databaseUrl,
      QUEUE_DATABASE_URL: testCase.queueUrl,
      PORT: String(await freePort()),
      [APPS[app].attemptsVariable]: String(context.settings.connectAttempts),
    },
  });
  const exit = await process.exited;
  const seconds = (Date.now() - startedAt) / 1000;
  const lines = process.lines.map((line) => line.text);
  const shown = masked(testCase.databaseUrl, testCase.password);
  // The worker logs JSON: the URL sits inside a string, with `/` possibly escaped.
  const naming = lines.filter((line) => line.replaceAll('\\/', '/').includes(shown));
  const leaked = lines.filter((line) => line.includes(testCase.password));
  const problems: string[] = [];
  if (exit.code !== 1) problems.push(`exit ${exit.signal ?? exit.code}, not 1`);
  if (lines.length !== testCase.lines)
    problems.push(`${lines.length} lines, not ${testCase.lines}`);
  if (naming.length !== lines.length)
    problems.push(`${lines.length - naming.length} line(s) do not name ${shown}`);
  if (leaked.length > 0) problems.push('the password is printed');
  if (seconds > 30) problems.push(`took ${seconds.toFixed(1)} s`);
  context.record({
    fault: `${app} started with ${testCase.input} (${DATABASE_LABEL[kind]})`,
    attempts: 1,
    invariant:
      testCase.lines > 1
        ? `one line per attempt (${testCase.lines}), URL named, password hidden, exit 1`
        : 'one line naming the URL, password hidden, exit 1',
    held: problems.length === 0,
    detail: problems.length
      ? `${problems.join('; ')} — ${lines.slice(0, 4).join(' / ')}`
      : `${seconds.toFixed(1)} s: ${lines.at(-1)}`,
  });
}

/**
 * Bad configuration at start-up, for the web app and the worker: the database unreachable (a
 * closed port: retried with backoff, one line per attempt, bounded, exit 1), a malformed URL,
 * and credentials the server refuses (a wrong password — or, on a server that trusts loopback
 * connections and so accepts any password, a database that does not exist): one line naming
 * the URL with its password hidden, exit 1.
 */
export const startUpFailures: Scenario = {
  name: 'start-up',
  kinds: ['postgres', 'mysql'],
  async run(context, kind) {
    const cleanup = new CleanupStack();
    try {
      const deployment = await createDeployment(context.servers, kind, 'startup');
      cleanup.defer(() => deployment.drop());
      cleanup.defer(() => stopRunningApps());
      const closedPort = await freePort();
      const realUrl = new URL(deployment.databaseUrl);
      const password = decodeURIComponent(realUrl.password) || 'Sec0ndPassw0rd';
      const user = decodeURIComponent(realUrl.username);
      const withPort = (port: string) => {
        const text = deployment.databaseUrl.replace(
          `@${realUrl.host}/`,
          `@${realUrl.hostname}:${port}/`,
        );
        return text.includes(`:${password}@`)
          ? text
          : text.replace(`//${user}@`, `//${user}:${password}@`);
      };
      const unreachable = withPort(String(closedPort));
      const malformed = withPort('notaport');
      const badCase = (
        input: string,
        url: string,
        casePassword: string,
        lines: number,
      ): StartUpCase => ({
        input,
        databaseUrl: url,
        queueUrl: kind === 'postgres' ? url : deployment.queueUrl,
        password: casePassword,
        lines,
      });
      const cases: StartUpCase[] = [
        badCase(
          'the database unreachable (closed port)',
          unreachable,
          password,
          context.settings.connectAttempts,
        ),
        badCase('a malformed URL', malformed, password, 1),
        kind === 'mysql' || (await context.servers.postgres.refusesWrongPassword())
          ? badCase(
              'a wrong password',
              deployment.databaseUrl.replace(`:${password}@`, ':WrongPassw0rd@'),
              'WrongPassw0rd',
              1,
            )
          : badCase(
              'a missing database (the server trusts loopback: any password passes)',
              databaseUrl(deployment.databaseUrl, 'rf_rel_no_such_database'),
              password,
              1,
            ),
      ];
      await Promise.all(
        cases.flatMap((testCase) => [
          runCase(context, kind, 'web', testCase),
          runCase(context, kind, 'worker', testCase),
        ]),
      );
    } finally {
      await cleanup.run();
    }
  },
};
