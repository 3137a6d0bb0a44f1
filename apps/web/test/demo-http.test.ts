import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMysqlTestDatabase, freePort, mysqlAdminUrl, mysqlGate } from '@racefree/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo, type Demo, running, startDemo, tree, waitForHealthy } from './demo-process.js';
import { RawConnection } from './raw-http.js';

// The done-when, as a visitor's HTTP client meets the demo: `scripts/demo.mjs` runs the
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
      await buildDemo();
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
        options: { raw?: string; chunked?: boolean; type?: string } = {},
      ) => {
        const text = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
        const response = await socket.request(method, path, {
          headers:
            text === undefined ? {} : { 'content-type': options.type ?? json['content-type'] },
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
        return { status: response.status, body: parsed, text: response.body };
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
