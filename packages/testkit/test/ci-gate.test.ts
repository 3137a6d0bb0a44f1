import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Runs the fixture suite (one MySQL-only describeDialects block) in a separate vitest process:
 * a cold pnpm + vitest start, seconds on a loaded CI machine, so the tests allow 120 s.
 */
function runFixture(env: Record<string, string | undefined>) {
  const result = spawnSync(
    'pnpm',
    [
      'exec',
      'vitest',
      'run',
      '--config',
      'test/fixtures/vitest.fixture.config.ts',
      '--reporter',
      'dot',
    ],
    { cwd: packageDir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 100_000 },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('CI=true with MySQL absent', () => {
  it('really fails the run', () => {
    const run = runFixture({ CI: 'true', MYSQL_URL: 'mysql://root@127.0.0.1:1/test' });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('CI=true makes a missing database a failure');
  }, 120_000);

  it('without CI, skips with a loud line and passes', () => {
    const run = runFixture({ CI: '', MYSQL_URL: 'mysql://root@127.0.0.1:1/test' });
    expect(run.output).toContain('SKIPPED MySQL/MariaDB suite');
    expect(run.status).toBe(0);
  }, 120_000);

  it('turbo passes CI and the database URLs through to the tests (strict env mode)', () => {
    // Declared on the test task (run-time inputs), not globally: a database URL must not be a
    // build input, or changing it would rebuild everything.
    const turbo = JSON.parse(readFileSync(`${repoRoot}/turbo.json`, 'utf8')) as {
      globalEnv?: string[];
      tasks: { test: { env: string[] }; build: { env?: string[] } };
    };
    const names = ['CI', 'PG_URL', 'MYSQL_URL', 'DATABASE_URL', 'QUEUE_DATABASE_URL'];
    for (const name of [...names, 'RACEFREE_DRIVERS', 'RACEFREE_PG_POOLER'])
      expect(turbo.tasks.test.env).toContain(name);
    for (const name of names.slice(1)) {
      expect(turbo.globalEnv ?? []).not.toContain(name);
      expect(turbo.tasks.build.env ?? []).not.toContain(name);
    }
  });
});
