import { describeDialects, type TestConnection } from '@racefree/testkit';
import type { AnyPgDatabase } from '@racefree/transactions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LabFaults } from '../src/lab/lab-context.js';
import { type LabQueue, startLabQueue } from '../src/lab/lab-queue.js';
import type { LabResult } from '../src/lab/lab-result.js';
import { createRaceLab, RACES } from '../src/lab/race-lab.js';
import { send, serveApp } from './serve-app.js';
import { withQueue } from './with-queue.js';

describeDialects('the race lab', (t) => {
  let pool: TestConnection;
  let queue: Awaited<ReturnType<typeof withQueue>>;
  let labQueue: LabQueue;
  let served: Awaited<ReturnType<typeof serveApp>>;
  const faults: LabFaults = {};
  const labRows = async () => {
    const [row] = await pool.query<{ n: number | string }>(
      "select (select count(*) from lab_sign_ups) + (select count(*) from lab_sign_ups_unkeyed) + (select count(*) from books where isbn like 'lab-%') as n",
    );
    return Number(row?.n);
  };
  const run = async (race: string, body: Record<string, unknown>) => {
    const response = await send(`${served.url}/api/lab/${race}`, 'POST', body);
    return { status: response.status, result: response.body as unknown as LabResult };
  };

  beforeAll(async () => {
    pool = await t.connect({ max: 10 });
    queue = await withQueue(t, pool);
    labQueue = startLabQueue({
      connectionString: queue.url,
      db: pool.db,
      ...(t.kind === 'postgres' ? { queueDb: pool.db as AnyPgDatabase } : {}),
    });
    const lab = createRaceLab({ db: pool.db, poolSize: 10, queue: labQueue, faults });
    served = await serveApp(pool, queue.signUp, { lab });
  });
  afterAll(async () => {
    await served?.close();
    await labQueue?.close();
    await queue?.close();
  });

  it('GET /api/lab names the server and lists every race', async () => {
    const { body } = await send(`${served.url}/api/lab`, 'GET');
    const database = body.database as { kind: string; version: string; label: string };
    expect(database.kind).toMatch(t.kind === 'postgres' ? /^postgres$/ : /^(mysql|mariadb)$/);
    expect(database.version).toMatch(/^\d+\.\d+/);
    const races = body.races as { race: string; unavailable?: string }[];
    expect(races.map((r) => r.race)).toEqual(RACES.map((r) => r.name));
    expect(races.find((r) => r.race === 'repeatable-read')?.unavailable !== undefined).toBe(
      t.kind === 'postgres',
    );
  });

  for (const race of RACES) {
    for (const strategy of race.strategies) {
      const safe = race.safe.includes(strategy);
      it(`${race.name} / ${strategy} with the default clients: ${safe ? '0 anomalies' : 'anomalies show'}`, async (context) => {
        if (race.name === 'repeatable-read' && t.kind === 'postgres') {
          const refused = await run(race.name, { strategy });
          expect(refused.status).toBe(404);
          expect(JSON.stringify(refused.result)).toContain('repeatable-read');
          context.skip();
        }
        const { status, result } = await run(race.name, { strategy });
        expect(status, JSON.stringify(result)).toBe(200);
        expect(result).toMatchObject({
          race: race.name,
          strategy,
          clients: race.defaultClients,
          completed: true,
        });
        expect(result.concurrency).toBeLessThanOrEqual(8);
        console.info(
          `[lab ${t.kind}] ${race.name}/${strategy}: ${result.summary} ${JSON.stringify(result.counts)}`,
        );
        if (safe) {
          expect(result.anomalies, JSON.stringify(result)).toBe(0);
          expect(result.counts['other failures'] ?? 0, JSON.stringify(result)).toBe(0);
          expect(result.errors).toEqual([]);
        } else {
          expect(result.anomalies, JSON.stringify(result)).toBeGreaterThan(0);
        }
        // Every run deletes what it created.
        expect(await labRows()).toBe(0);
      });
    }
  }

  it('the counts add up: oversell sells exactly the stock with lock and atomic', async () => {
    for (const strategy of ['lock', 'atomic']) {
      const { result } = await run('oversell', { strategy, clients: 30 });
      expect(result.counts).toMatchObject({
        buyers: 30,
        'start stock': 15,
        'orders written': 15,
        'sold out (409)': 15,
        'stock left': 0,
        'lost updates': 0,
        oversold: 0,
      });
    }
  });

  it('refuses an unknown race (404) or strategy (400), and clients outside 1–500 (400), naming them', async () => {
    const unknownRace = await run('teleport', { strategy: 'naive' });
    expect(unknownRace.status).toBe(404);
    expect(JSON.stringify(unknownRace.result)).toContain('teleport');
    const unknownStrategy = await run('oversell', { strategy: 'getOrCreate' });
    expect(unknownStrategy.status).toBe(400);
    expect(String((unknownStrategy.result as unknown as { error: string }).error)).toMatch(
      /^strategy: "getOrCreate" is not a strategy of oversell/,
    );
    for (const clients of [0, 501, 1.5, -1, '10', null]) {
      const bad = await run('duplicates', { strategy: 'naive', clients });
      expect(bad.status, String(clients)).toBe(400);
      expect(String((bad.result as unknown as { error: string }).error)).toMatch(/^clients: /);
    }
    expect((await run('oversell', { strategy: 'atomic', clients: 1 })).status).toBe(200);
    expect(await labRows()).toBe(0);
  });

  it('a run that fails midway says so in its JSON, leaves no rows, and the next run is clean', async () => {
    for (const race of ['oversell', 'duplicates', 'bulk-duplicates', 'early-job']) {
      faults.beforeCount = () => {
        throw new Error('injected: the database went away');
      };
      try {
        const { status, result } = await run(race, {
          strategy: race === 'oversell' ? 'lock' : 'naive',
          clients: 6,
        });
        expect(status).toBe(503);
        expect(result).toMatchObject({ race, completed: false });
        expect(result.error).toContain('injected');
      } finally {
        delete faults.beforeCount;
      }
      expect(await labRows()).toBe(0);
    }
    const { result } = await run('oversell', { strategy: 'atomic', clients: 10 });
    expect(result).toMatchObject({ completed: true, anomalies: 0 });
    expect(served.serverErrors).toEqual([]);
  });

  it('a pool of 4 runs 40 early-job clients in waves it can hold (no wait for a connection that never comes)', async () => {
    const small = await t.connect({ max: 4 });
    const lab = createRaceLab({ db: small.db, poolSize: 4, queue: labQueue });
    for (const strategy of ['naive', 'enqueue'] as const) {
      const result = await lab.run('early-job', { strategy, clients: 40 });
      expect(result.concurrency).toBe(2);
      expect(result.completed, JSON.stringify(result)).toBe(true);
      expect(result.counts['jobs that ran']).toBe(40);
      expect(result.anomalies).toBe(strategy === 'naive' ? 40 : 0);
    }
  });
});
