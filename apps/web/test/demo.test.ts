import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMysqlTestDatabase, freePort, mysqlAdminUrl, mysqlGate } from '@racefree/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, running, startDemo, tree, waitForHealthy } from './demo-process.js';
import { RawConnection } from './raw-http.js';

// The real `scripts/demo.mjs`, as `pnpm demo` runs it (its turbo build included), in one file so
// its starts — and their builds — never overlap.

// `pnpm demo`'s supervisor, for real: the built web and worker, an embedded PostgreSQL on a
// scratch data directory, real signals. (Linux: the process tree is read from /proc.)

describe('pnpm demo supervisor', () => {
  let dataDir: string;
  let port: number;
  let url: string;
  const started: Demo[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'racefree-demo-pg-'));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    // A failed test must not leave its demo behind for the next one.
    for (const demo of started.splice(0))
      for (const pid of tree(demo.child.pid ?? -1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
  });

  afterAll(async () => {
    const pidFile = join(dataDir, 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      try {
        process.kill(pid, 'SIGINT');
        await sleep(1000);
      } catch {
        // Not running.
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const demo = (env: Record<string, string> = {}) => {
    const started_ = startDemo({ PORT: String(port), DEMO_DATA_DIR: dataDir, ...env });
    started.push(started_);
    return started_;
  };

  it('a PORT in use is one line naming PORT, and exit 1 before anything starts', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const busy = demo();
      expect(await busy.exited).toBe(1);
      const lines = busy.output().trim().split('\n');
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^PORT ${port} is already in use`))]);
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('SIGKILL of the supervisor leaves no process behind within 5 s; the next start is clean', async () => {
    const first = demo();
    await waitForHealthy(url, first);
    const family = tree(first.child.pid ?? -1);
    // The supervisor, its keeper and embedded server (with its backends), web and worker.
    expect(family.length).toBeGreaterThanOrEqual(5);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    while (running(family).length > 0 && Date.now() - killedAt < 10_000) await sleep(50);
    const tookMs = Date.now() - killedAt;
    console.info(
      `[demo] ${family.length} processes gone ${tookMs} ms after SIGKILL of the supervisor`,
    );
    const left = running(family).map(
      (pid) =>
        `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120)}`,
    );
    expect(left).toEqual([]);
    expect(tookMs).toBeLessThan(5000);

    const second = demo();
    await waitForHealthy(url, second);
    expect(second.output()).not.toMatch(/did not start|Error/);
    // And an ordinary stop: SIGTERM, exit 0, nothing left.
    const family2 = tree(second.child.pid ?? -1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await sleep(200);
    expect(running(family2)).toEqual([]);
  }, 400_000);

  it('SIGKILL while the apps are still starting leaves nothing behind either', async () => {
    const starting = demo();
    // As soon as both apps exist — long before they serve — the supervisor is killed.
    const commandOf = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    const deadline = Date.now() + 60_000;
    let family: number[] = [];
    while (Date.now() < deadline) {
      family = tree(starting.child.pid ?? -1);
      if (family.filter((pid) => commandOf(pid).includes('dist/main.js')).length === 2) break;
      await sleep(20);
    }
    expect(family.filter((pid) => commandOf(pid).includes('dist/main.js'))).toHaveLength(2);
    starting.child.kill('SIGKILL');
    const killedAt = Date.now();
    while (running(family).length > 0 && Date.now() - killedAt < 10_000) await sleep(50);
    console.info(
      `[demo] start-up: ${family.length} processes gone ${Date.now() - killedAt} ms after SIGKILL`,
    );
    expect(running(family).map(commandOf)).toEqual([]);
    expect(Date.now() - killedAt).toBeLessThan(5000);
  }, 120_000);

  it("recovers a crash's leftovers on its own: a server whose keeper died, a stale postmaster.pid", async () => {
    const first = demo();
    await waitForHealthy(url, first);
    const family = tree(first.child.pid ?? -1);
    const keeper = family.find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('embedded-postgres-keeper'),
    );
    expect(keeper).toBeDefined();
    // Both at once: nobody is left to stop the server, which lives on and holds the data dir.
    process.kill(keeper as number, 'SIGKILL');
    first.child.kill('SIGKILL');
    await sleep(500);
    const pidFile = join(dataDir, 'postmaster.pid');
    const orphan = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    expect(running([orphan])).toEqual([orphan]);

    const second = demo();
    await waitForHealthy(url, second);
    expect(second.output()).toContain('still running');
    expect(running([orphan])).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // A postmaster.pid naming a process that is not this directory's server (the server was
    // killed, its pid taken since): the next start removes it.
    writeFileSync(pidFile, `${process.pid}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);
    const third = demo();
    await waitForHealthy(url, third);
    expect(third.output()).toContain('stale postmaster.pid');
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 180_000);
});

// The demo as a visitor's HTTP client meets it: `scripts/demo.mjs` runs the
// built web and worker (on an embedded PostgreSQL, and on MariaDB with the queue on the
// embedded server), and one keep-alive connection drives the API, every race of the lab and the
// hostile requests, in one sequence.

const json = { 'content-type': 'application/json' };

interface Setup {
  name: string;
  kind: 'postgres' | 'mysql';
  /** Extra environment for the demo (DATABASE_URL for MariaDB). */
  env(): Promise<{ env: Record<string, string>; drop?: () => Promise<void> }>;
}

const setups: Setup[] = [
  { name: 'embedded PostgreSQL', kind: 'postgres', env: async () => ({ env: {} }) },
  {
    name: 'MariaDB (queue on the embedded PostgreSQL)',
    kind: 'mysql',
    env: async () => {
      const database = await createMysqlTestDatabase(mysqlAdminUrl());
      return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
    },
  },
];

for (const setup of setups) {
  // Without a MariaDB server: skipped loudly, or (CI=true) the set-up fails.
  const gate = mysqlGate;
  const skip = setup.kind === 'mysql' && gate.status === 'skip';
  if (skip && gate.status === 'skip')
    console.warn(`\n!!! SKIPPED the demo on MariaDB: ${gate.reason}\n`);
  describe.skipIf(skip)(`the demo over HTTP keep-alive: ${setup.name}`, () => {
    let demo: Demo;
    let url: string;
    let dataDir: string;
    let drop: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const extra = await setup.env();
      drop = extra.drop;
      dataDir = mkdtempSync(join(tmpdir(), 'racefree-demo-http-'));
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      demo = startDemo({ PORT: String(port), DEMO_DATA_DIR: dataDir, ...extra.env });
      await waitForHealthy(url, demo);
    }, 600_000);

    afterAll(async () => {
      if (demo) {
        const family = tree(demo.child.pid ?? -1);
        demo.child.kill('SIGTERM');
        await demo.exited;
        for (let waited = 0; running(family).length > 0 && waited < 5000; waited += 100)
          await sleep(100);
      }
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('one keep-alive connection: the API, every race of the lab, and hostile requests', async () => {
      const socket = await RawConnection.open(url);
      const call = async (
        method: string,
        path: string,
        body?: unknown,
        options: { raw?: string; chunked?: boolean; type?: string; key?: string } = {},
      ) => {
        const text = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
        const response = await socket.request(method, path, {
          headers: {
            ...(text === undefined ? {} : { 'content-type': options.type ?? json['content-type'] }),
            ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
          },
          ...(text === undefined ? {} : { body: text }),
          ...(options.chunked ? { chunked: true } : {}),
        });
        // No answer on this socket may close it, or claim to keep it and then close it.
        expect(response.headers.connection, `${method} ${path}`).not.toBe('close');
        expect(socket.isClosed, `${method} ${path}`).toBe(false);
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(response.body) as Record<string, unknown>;
        } catch {
          // The page and its assets are not JSON.
        }
        return {
          status: response.status,
          body: parsed,
          text: response.body,
          replayed: response.headers['idempotent-replayed'] === 'true',
        };
      };
      try {
        expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok', database: 'up' });
        expect((await call('GET', '/')).text).toContain('Race lab');
        const lab = await call('GET', '/api/lab');
        const database = lab.body.database as { kind: string; label: string };
        expect(database.kind).toMatch(
          setup.kind === 'postgres' ? /^postgres$/ : /^(mysql|mariadb)$/,
        );

        // The bookstore's own routes.
        const book = await call('POST', '/api/books', {
          isbn: '978-0-262-03384-8',
          title: 'Introduction to Algorithms',
          price: 99.5,
          quantity: 2,
        });
        expect(book.status).toBe(201);
        const customer = await call('POST', '/api/customers', {
          email: 'demo@example.com',
          name: 'Demo',
        });
        expect(customer.status).toBe(201);
        const bookId = (book.body.book as { id: number }).id;
        const customerId = (customer.body.customer as { id: number }).id;
        expect(
          (await call('POST', `/api/books/${bookId}/purchase`, { customerId, strategy: 'lock' }))
            .status,
        ).toBe(201);
        expect((await call('GET', `/api/customers/${customerId}/emails`)).status).toBe(200);
        // Idempotency-Key (its table created at start-up): the retry replays, buys nothing.
        const keyed = () =>
          call('POST', `/api/books/${bookId}/purchase`, { customerId }, { key: 'demo-key-1' });
        const bought = await keyed();
        const retried = await keyed();
        expect([bought.status, bought.replayed, retried.status, retried.replayed]).toEqual([
          201,
          false,
          201,
          true,
        ]);
        expect(retried.text).toBe(bought.text);
        expect((await call('POST', `/api/books/${bookId}/purchase`, { customerId })).status).toBe(
          409,
        );
        // Tags: created and linked, then a repeat that changes nothing.
        const tagged = await call('POST', `/api/books/${bookId}/tags`, { tags: ['algorithms'] });
        expect(tagged.status).toBe(201);
        const again = await call('POST', `/api/books/${bookId}/tags`, { tags: ['Algorithms'] });
        expect(again).toMatchObject({ status: 200, body: { linked: [], tags: ['algorithms'] } });

        // Hostile requests, each followed by an ordinary one on the same socket.
        const hostile: [string, () => ReturnType<typeof call>, number][] = [
          [
            '1 MB POST',
            () => call('POST', '/api/customers', undefined, { raw: 'x'.repeat(1 << 20) }),
            413,
          ],
          [
            '1 MB chunked POST',
            () =>
              call('POST', '/api/books', undefined, { raw: 'y'.repeat(1 << 20), chunked: true }),
            413,
          ],
          ['bad JSON', () => call('POST', '/api/customers', undefined, { raw: '{"email":' }), 400],
          [
            'not JSON',
            () => call('POST', '/api/customers', undefined, { raw: 'a=b', type: 'text/plain' }),
            415,
          ],
          ['bad field', () => call('POST', '/api/customers', { email: 'nope', name: 'X' }), 400],
          ['unknown book', () => call('POST', '/api/books/999999/purchase', { customerId }), 404],
          ['SQL in the path', () => call('GET', "/api/customers/1'%20or%20'1'='1/emails"), 404],
          ['unknown race', () => call('POST', '/api/lab/teleport', { strategy: 'naive' }), 404],
          [
            'unknown strategy',
            () => call('POST', '/api/lab/duplicates', { strategy: 'lock' }),
            400,
          ],
          [
            '0 clients',
            () => call('POST', '/api/lab/oversell', { strategy: 'naive', clients: 0 }),
            400,
          ],
          [
            '501 clients',
            () => call('POST', '/api/lab/oversell', { strategy: 'naive', clients: 501 }),
            400,
          ],
        ];
        for (const [what, send, status] of hostile) {
          const response = await send();
          expect(response.status, `${what}: ${response.text.slice(0, 200)}`).toBe(status);
          expect(response.text).not.toMatch(/\bat .+:\d+:\d+|select |insert into/i);
          expect((await call('GET', '/api/books')).status, `GET after ${what}`).toBe(200);
        }

        // Every race the server can run, every strategy, with the lab's defaults.
        const races = lab.body.races as {
          race: string;
          strategies: string[];
          safe: string[];
          unavailable?: string;
        }[];
        for (const race of races) {
          if (race.unavailable) {
            expect(setup.kind).toBe('postgres'); // only repeatable-read, only on PostgreSQL
            expect(
              (await call('POST', `/api/lab/${race.race}`, { strategy: race.strategies[0] }))
                .status,
            ).toBe(404);
            continue;
          }
          for (const strategy of race.strategies) {
            const { status, body } = await call('POST', `/api/lab/${race.race}`, { strategy });
            expect(status, JSON.stringify(body)).toBe(200);
            console.info(`[demo ${setup.kind}] ${race.race}/${strategy}: ${String(body.summary)}`);
            if (race.safe.includes(strategy)) expect(body.anomalies, JSON.stringify(body)).toBe(0);
            else expect(body.anomalies, JSON.stringify(body)).toBeGreaterThan(0);
          }
        }
      } finally {
        socket.close();
      }
      // The demo's processes logged no crash.
      expect(demo.output()).not.toMatch(/exited \(|Internal error|unhandled/);
    }, 240_000);
  });
}
