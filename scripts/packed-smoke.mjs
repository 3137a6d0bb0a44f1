// Run by scripts/ci-packed-install.mjs inside a plain npm project where the four packed
// libraries and unpinned drizzle-orm, postgres, pg, mysql2, graphile-worker and hono were
// installed: what a stranger gets from `npm install`. Plain JavaScript, public exports only.
import { createJobs, defineTasks } from '@racefree/jobs';
import { getOrCreate } from '@racefree/rows';
import { atomic, managed } from '@racefree/transactions';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import { mysqlTable, serial as mysqlSerial, varchar } from 'drizzle-orm/mysql-core';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js';
import { run } from 'graphile-worker';
import mysql from 'mysql2/promise';
import pg from 'pg';
import postgres from 'postgres';

const CALLERS = 50;
const pgUrl = process.env.PG_URL;
const mysqlUrl = process.env.MYSQL_URL;
if (!pgUrl || !mysqlUrl) throw new Error('packed-smoke needs PG_URL and MYSQL_URL');

const pgTags = pgTable('smoke_tags', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
});
const mysqlTags = mysqlTable('smoke_tags', {
  id: mysqlSerial('id').primaryKey(),
  name: varchar('name', { length: 50 }).notNull().unique(),
});
const users = pgTable('smoke_users', {
  id: serial('id').primaryKey(),
  email: text('email').notNull(),
});

let failures = 0;
function check(what, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : `: ${detail}`}`);
  if (!ok) failures += 1;
}

/** 50 getOrCreate calls on one new key, released together: one row, created exactly once. */
async function raceGetOrCreate(label, db, tags, count) {
  const results = await Promise.allSettled(
    Array.from({ length: CALLERS }, () => getOrCreate(db, tags, { where: { name: 'contended' } })),
  );
  const errors = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
  const created = results.filter((r) => r.status === 'fulfilled' && r.value.created).length;
  const rows = await count();
  check(
    `${label}: ${CALLERS} concurrent getOrCreate → 1 row, 1 created, no error`,
    errors.length === 0 && created === 1 && rows === 1,
    `rows ${rows}, created ${created}, errors ${errors.slice(0, 2).join('; ')}`,
  );
}

const pgjs = postgres(pgUrl, { max: 10, onnotice: () => {} });
const pool = new pg.Pool({ connectionString: pgUrl, max: 10 });
const mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: 10 });
try {
  await pgjs.unsafe('drop table if exists smoke_tags, smoke_users');
  await pgjs.unsafe('create table smoke_tags (id serial primary key, name text not null unique)');
  await pgjs.unsafe('create table smoke_users (id serial primary key, email text not null)');
  const pgCount = async () =>
    Number((await pgjs.unsafe('select count(*) as n from smoke_tags'))[0].n);

  await raceGetOrCreate(
    'postgres.js',
    managed(drizzlePostgresJs({ client: pgjs })),
    pgTags,
    pgCount,
  );
  await pgjs.unsafe('delete from smoke_tags');
  await raceGetOrCreate('node-postgres', managed(drizzleNodePg({ client: pool })), pgTags, pgCount);

  await mysqlPool.query('drop table if exists smoke_tags');
  await mysqlPool.query(
    'create table smoke_tags (id serial primary key, name varchar(50) not null unique)',
  );
  await raceGetOrCreate(
    'mysql2',
    managed(drizzleMysql({ client: mysqlPool })),
    mysqlTags,
    async () => {
      const [rows] = await mysqlPool.query('select count(*) as n from smoke_tags');
      return Number(rows[0].n);
    },
  );

  // A job enqueued inside atomic: invisible to the queue until COMMIT, then run, and its row
  // is there when it runs.
  const anything = {
    '~standard': { version: 1, vendor: 'smoke', validate: (value) => ({ value }) },
  };
  const tasks = defineTasks({ check_user: anything });
  const jobs = createJobs({ tasks, connectionString: pgUrl });
  await jobs.migrate();
  const db = managed(drizzleNodePg({ client: pool }));
  let sawRow;
  const ran = new Promise((resolve) => {
    sawRow = resolve;
  });
  const runner = await run({
    pgPool: jobs.pgPool,
    concurrency: 1,
    pollInterval: 100,
    noHandleSignals: true,
    taskList: jobs.taskList({
      check_user: async (payload) => {
        const found = await pgjs`select 1 from smoke_users where id = ${payload.id}`;
        sawRow(found.length === 1);
      },
    }),
  });
  let visibleBeforeCommit;
  await atomic(db, async (tx) => {
    const [user] = await tx.insert(users).values({ email: 'smoke@example.com' }).returning();
    await jobs.enqueue(tx, 'check_user', { id: user.id });
    const [row] = await pgjs.unsafe(
      "select count(*) as n from graphile_worker.jobs where task_identifier = 'check_user'",
    );
    visibleBeforeCommit = Number(row.n);
  });
  const saw = await Promise.race([
    ran,
    new Promise((resolve) => setTimeout(() => resolve('timed out'), 15_000)),
  ]);
  check(
    'graphile-worker: the job is invisible before COMMIT',
    visibleBeforeCommit === 0,
    `${visibleBeforeCommit} visible`,
  );
  check('graphile-worker: the job runs after COMMIT and finds its row', saw === true, String(saw));
  await runner.stop();
  await jobs.close();
} finally {
  await Promise.allSettled([pgjs.end({ timeout: 1 }), pool.end(), mysqlPool.end()]);
}
console.log(
  failures === 0 ? 'packed-smoke: all checks passed' : `packed-smoke: ${failures} failed`,
);
process.exit(failures === 0 ? 0 : 1);
