import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

// The generated migrations must match the schema: a schema change without `pnpm generate`
// would ship tables that differ from what the code expects. drizzle-kit compares the schema
// with the snapshots in a scratch copy of drizzle/ — no database involved.
describe('drizzle migrations', () => {
  it.each([
    ['postgresql', 'src/dialects/postgres-schema.ts', 'pg'],
    ['mysql', 'src/dialects/mysql-schema.ts', 'mysql'],
  ])('are up to date with the %s schema', async (dialect, schema, folder) => {
    // drizzle-kit only takes an --out relative to the working directory.
    const scratch = join('.test-results', `migrations-${folder}-${process.pid}`);
    await mkdir(join(root, scratch), { recursive: true });
    try {
      await cp(join(root, 'drizzle', folder), join(root, scratch), { recursive: true });
      const before = await readdir(join(root, scratch), { recursive: true });
      const { stdout, stderr } = await run(
        join(root, 'node_modules/.bin/drizzle-kit'),
        ['generate', '--dialect', dialect, '--schema', schema, '--out', scratch],
        { cwd: root },
      );
      // drizzle-kit exits 0 even when it fails, so the output is what tells.
      expect(`${stdout}${stderr}`).toContain('No schema changes');
      expect(await readdir(join(root, scratch), { recursive: true })).toEqual(before);
    } finally {
      await rm(join(root, scratch), { recursive: true, force: true });
    }
  });
});
