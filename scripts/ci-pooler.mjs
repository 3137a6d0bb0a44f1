#!/usr/bin/env node
// CI: the PostgreSQL library suites once more, through PgBouncer in transaction mode on a free
// port in front of the server at PG_URL — the way many app processes share a database. It
// proves racefree keeps no session state across transactions (lock timeouts are SET LOCAL /
// set_config(…, true)) and needs no named prepared statements when the client is configured
// for a pooler (postgres.js `prepare: false`, which the testkit sets under
// RACEFREE_PG_POOLER=transaction). One driver is enough: postgres.js, whose prepared
// statements are the ones a pooler breaks. graphile-worker's LISTEN connection must stay
// direct, so the jobs suite is not run through it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const SUITES = ['@racefree/transactions', '@racefree/rows', '@racefree/hono'];
const target = new URL(process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

// The suites' shared Vitest config is loaded from the testkit's build (a clean clone has none).
const built = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'build', '--filter=@racefree/testkit', '--output-logs=errors-only'],
  { cwd: root, stdio: 'inherit' },
);
if (built.status !== 0) {
  console.error('ci-pooler: the testkit build failed');
  process.exit(1);
}

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'racefree-pgbouncer-'));
chmodSync(dir, 0o777); // PgBouncer refuses to run as root: as root it runs as `postgres`
const ini = join(dir, 'pgbouncer.ini');
writeFileSync(
  ini,
  `[databases]
* = host=${target.hostname} port=${target.port || 5432} user=${decodeURIComponent(target.username || 'postgres')}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
auth_type = any
pool_mode = transaction
max_client_conn = 400
default_pool_size = 30
max_db_connections = 60
ignore_startup_parameters = extra_float_digits,options,application_name
unix_socket_dir =
logfile = ${join(dir, 'pgbouncer.log')}
pidfile = ${join(dir, 'pgbouncer.pid')}
`,
);
const asRoot = process.getuid?.() === 0;
const started = spawnSync(
  asRoot ? 'runuser' : 'pgbouncer',
  asRoot ? ['-u', 'postgres', '--', 'pgbouncer', '-d', ini] : ['-d', ini],
  { stdio: 'inherit' },
);
if (started.status !== 0) {
  console.error('ci-pooler: PgBouncer did not start (is the pgbouncer package installed?)');
  process.exit(1);
}
let code = 1;
try {
  await waitForPort(port);
  const url = `postgres://${target.username || 'postgres'}@127.0.0.1:${port}${target.pathname}`;
  console.log(`ci-pooler: PgBouncer ${port} (transaction pooling) → ${target.host}`);
  code = 0;
  for (const suite of SUITES) {
    const result = spawnSync('pnpm', ['--filter', suite, 'exec', 'vitest', 'run'], {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        CI: 'true',
        PG_URL: url,
        RACEFREE_DRIVERS: 'postgres-js',
        RACEFREE_PG_POOLER: 'transaction',
      },
    });
    if (result.status !== 0) code = 1;
    console.log(
      `ci-pooler: ${suite} through PgBouncer: ${result.status === 0 ? 'passed' : 'FAILED'}`,
    );
  }
} finally {
  const pid = Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8').trim());
  if (pid > 0) process.kill(pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address();
      server.close(() => resolve(free));
    });
  });
}

async function waitForPort(wanted) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: wanted }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`PgBouncer did not listen on ${wanted}`);
}
