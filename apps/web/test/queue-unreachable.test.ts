import { ConnectionRefusedError, loadDatabaseConfig } from '@racefree/bookstore';
import { freePort } from '@racefree/testkit/free-port';
import { createPostgresTestDatabase, postgresAdminUrl, type TestDatabase } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type OpenDatabase } from '../src/open-database.js';
import { createSignUp } from '../src/sign-up-service.js';

// With DATABASE_URL on one server and the job queue on another, the queue may still be starting
// when the web app does: it must be retried like the bookstore's database (one line per
// attempt, then one clear error), not end the process at the first refusal.
let database: TestDatabase;
let opened: OpenDatabase;

beforeAll(async () => {
  database = await createPostgresTestDatabase(postgresAdminUrl(), 'queuedown');
  opened = await openDatabase(loadDatabaseConfig({ DATABASE_URL: database.url }), { max: 2 });
});
afterAll(async () => {
  await opened?.close();
  await database?.drop();
});

it('retries an unreachable queue database, one line per attempt, then names it', async () => {
  const closed = await freePort();
  const queueUrl = `postgres://postgres:s3cret@127.0.0.1:${closed}/queue`;
  const config = { ...loadDatabaseConfig({ DATABASE_URL: database.url }), queueUrl };
  const lines: string[] = [];
  const error = await createSignUp(opened, config, {
    attempts: 2,
    onRetry: (line) => lines.push(line),
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectionRefusedError);
  expect(String((error as Error).message)).toMatch(
    /the job queue database at .*:\*\*\*@127\.0\.0\.1:\d+\/queue is unreachable after 2 attempts/,
  );
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/unreachable \(attempt 1 of 2\)/);
  expect(lines.join('\n')).not.toContain('s3cret');
});
