#!/usr/bin/env node
// `pnpm test`: one PostgreSQL for the whole run (PG_URL, or an embedded server started here),
// every package's tests through turbo, then one plain closing line CI can read:
// "N passed, N failed, N skipped", totalled from each package's JSON report.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run-built-program.mjs';

const root = new URL('..', import.meta.url).pathname;
const extraArgs = process.argv.slice(2);

const workspaces = ['packages', 'apps']
  .filter((dir) => existsSync(join(root, dir)))
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)));
for (const dir of workspaces) rmSync(join(dir, '.test-results'), { recursive: true, force: true });

const env = { ...process.env };
let embedded;
if (!env.PG_URL) {
  // The testkit's embedded server: built first so plain Node can load it.
  const built = await run('pnpm', [
    'exec',
    'turbo',
    'run',
    'build',
    '--filter=@racefree/testkit',
    '--output-logs=errors-only',
  ]);
  if (built !== 0) process.exit(built);
  const { startEmbeddedPostgres } = await import(
    join(root, 'packages/testkit/dist/embedded-postgres.js')
  );
  console.log('PG_URL is not set: starting an embedded PostgreSQL for this test run…');
  embedded = await startEmbeddedPostgres({
    dataDir: await mkdtemp(join(tmpdir(), 'racefree-test-pg-')),
  });
  env.PG_URL = embedded.url;
  console.log(`embedded PostgreSQL on port ${embedded.port}`);
}

// One package's suite at a time per core: each runs its own files in parallel already, and ten
// suites at once on two cores starved timing-bound tests (a 500-job worker race went from 2 s
// to a 30 s timeout) and together opened more connections than PostgreSQL's 100.
const concurrency = extraArgs.some((arg) => arg.startsWith('--concurrency'))
  ? []
  : [`--concurrency=${Math.max(2, availableParallelism())}`];
let code;
try {
  code = await run(
    'pnpm',
    ['exec', 'turbo', 'run', 'test', '--continue', ...concurrency, ...extraArgs],
    env,
  );
} finally {
  await embedded?.stop();
}

let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
const failures = [];
for (const dir of workspaces) {
  const file = join(dir, '.test-results', 'vitest.json');
  if (!existsSync(file)) continue;
  reports += 1;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += countFailures(report);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  failures.push(...failuresIn(report, dir));
}
// CI keeps only the tail of the output: name every failure right above the closing line, so
// the tail alone says what failed and why.
if (failures.length > 0) {
  console.log(`\nFailed (${failures.length}):`);
  for (const line of failures) console.log(line);
}
// A package whose run crashed before writing its report counts as a failure.
if (code !== 0 && failed === 0) failed = 1;
if (reports === 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code !== 0 || failed > 0 ? 1 : 0);

// Every failed test counts once, and so does a file that failed on its own (an import error,
// a crashed hook) with no failed test in it. (vitest's numFailedTestSuites also counts each
// describe block around a failed test, so it cannot be used for this.)
function countFailures(report) {
  let count = 0;
  for (const suite of report.testResults ?? []) {
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed').length;
    count += failedTests > 0 ? failedTests : suite.status === 'failed' ? 1 : 0;
  }
  return count;
}

/** One line per failed test (or failed suite), with the first line of its error. */
function failuresIn(report, dir) {
  const lines = [];
  const where = dir.slice(root.length);
  for (const suite of report.testResults ?? []) {
    const file = suite.name?.startsWith(dir) ? suite.name.slice(dir.length + 1) : suite.name;
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const test of failedTests) {
      lines.push(
        `  ✗ ${where} ${file} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`,
      );
    }
    if (suite.status === 'failed' && failedTests.length === 0) {
      lines.push(`  ✗ ${where} ${file}: ${firstLine(suite.message)}`);
    }
  }
  return lines;
}

function firstLine(text) {
  const line =
    String(text ?? 'no message')
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
