import { describeDialects, describeReadme } from '@racefree/testkit';
import { fileURLToPath } from 'node:url';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { EXAMPLE_DDL } from '../examples/schema.js';
import { openDatabase } from '../examples/setup.js';
import { type Mailer, signUp, signUpOnce, signUpWithAtomic } from '../examples/sign-up.js';
import { testSignUp } from '../examples/testing.js';
import { type AnyPgDatabase, managed } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describeReadme(packageDir);

// The examples the README shows, run on each PostgreSQL driver.
describeDialects(
  'the README examples, run',
  (t) => {
    let sent: string[];
    const mailer: Mailer = { welcome: (email) => void sent.push(email) };
    const users = async () =>
      (await t.connection.query<{ email: string }>('select email from users order by id')).map(
        (row) => row.email,
      );
    beforeAll(async () => {
      for (const ddl of EXAMPLE_DDL) await t.connection.query(ddl);
    });
    beforeEach(async () => {
      sent = [];
      await t.connection.query('delete from users');
    });

    it('setup opens a managed database; sign-up mails after the commit', async () => {
      const db = openDatabase(t.database.url);
      try {
        const user = await signUp(db, 'ada@example.com', mailer);
        expect(user.email).toBe('ada@example.com');
        expect(sent).toEqual(['ada@example.com']);
        expect(await users()).toEqual(['ada@example.com']);
      } finally {
        await db.$client.end();
      }
    });

    it('atomic + current: the insert joins the block; a taken email is classified', async () => {
      const db = managed(t.connection.db as AnyPgDatabase);
      await signUpWithAtomic(db, 'bo@example.com', mailer);
      expect(await signUpOnce(db, 'bo@example.com', mailer)).toBeUndefined();
      expect(sent).toEqual(['bo@example.com']);
      expect(await users()).toEqual(['bo@example.com']);
    });

    it('testing: the hook is captured, not run, and nothing is left behind', async () => {
      const db = managed(t.connection.db as AnyPgDatabase);
      const { hooks, sent: mailed } = await testSignUp(db);
      expect(hooks).toHaveLength(1);
      expect(mailed).toEqual([]);
      expect(await users()).toEqual([]);
    });
  },
  { kinds: ['postgres'] },
);
