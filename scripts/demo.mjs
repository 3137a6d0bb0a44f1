#!/usr/bin/env node
// `pnpm demo`: builds the libraries, starts PostgreSQL (DATABASE_URL, or an embedded server with
// its data under .data/), and shows atomic() + onCommit() doing what Django's on_commit does.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (command, args) =>
  new Promise((resolve) =>
    spawn(command, args, { stdio: 'inherit', cwd: root }).on('exit', (code) => resolve(code ?? 1)),
  );

const built = await run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
if (built !== 0) process.exit(built);

const { startEmbeddedPostgres } = await import(
  join(root, 'packages/testkit/dist/embedded-postgres.js')
);
const { atomic, onCommit } = await import(join(root, 'packages/transactions/dist/index.js'));
const { drizzle } = await import('drizzle-orm/postgres-js');
const { sql } = await import('drizzle-orm');
const postgres = (await import('postgres')).default;

let server;
let url = process.env.DATABASE_URL;
if (!url) {
  console.log(
    'DATABASE_URL is not set: starting an embedded PostgreSQL (data under .data/postgres)…',
  );
  server = await startEmbeddedPostgres({ dataDir: join(root, '.data/postgres'), persistent: true });
  url = server.url;
}
const client = postgres(url, { max: 4, onnotice: () => {} });
const db = drizzle({ client });
try {
  await db.execute(
    sql`create table if not exists demo_users (id serial primary key, email text unique not null)`,
  );
  const email = `reader${Date.now()}@example.com`;

  console.log(
    '\n1. A committed transaction: the hook runs after COMMIT, when the row is visible to everyone.',
  );
  await atomic(db, async (tx) => {
    await tx.execute(sql`insert into demo_users (email) values (${email})`);
    await onCommit(async () => {
      const rows = await client`select count(*)::int as n from demo_users where email = ${email}`;
      console.log(
        `   onCommit: sending the welcome email to ${email} (rows visible from another connection: ${rows[0].n})`,
      );
    });
    console.log('   inside the transaction: row inserted, hook registered, nothing sent yet');
  });

  console.log(
    '\n2. A rolled-back transaction: the hook never runs, so no email for a user who does not exist.',
  );
  await atomic(db, async (tx) => {
    await tx.execute(sql`insert into demo_users (email) values (${`ghost-${email}`})`);
    await onCommit(() => console.log('   this line never prints'));
    throw new Error('payment declined');
  }).catch((error) =>
    console.log(`   the block failed (${error.message}); the hook was discarded`),
  );

  console.log('\n3. A savepoint that fails discards only its own hooks.');
  await atomic(db, async () => {
    await onCommit(() => console.log('   onCommit: outer hook ran'));
    await atomic(db, async () => {
      await onCommit(() => console.log('   this line never prints either'));
      throw new Error('inner step failed');
    }).catch(() => console.log('   inner savepoint rolled back'));
  });
  console.log('\nDone. The full bookstore demo (web app + worker) arrives with the demo issue.');
} finally {
  await client.end();
  await server?.stop();
}
