#!/usr/bin/env node
// Runs the embedded PostgreSQL for `pnpm demo` in its own process group, so a terminal Ctrl-C
// reaches the apps first: they drain against a live database, and only then does the demo
// stop this keeper (SIGTERM), which shuts the server down. Prints one JSON line: { url }.
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { startEmbeddedPostgres } = await import(
  join(root, 'packages/testkit/dist/embedded-postgres.js')
);
const server = await startEmbeddedPostgres({
  dataDir: join(root, '.data/postgres'),
  persistent: true,
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
// embedded-postgres registers its own exit hook: SIGTERM stops the server and exits.
