import { createServer, type Server, type Socket } from 'node:net';
import { postgresAdminUrl } from '@racefree/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobs, defineTasks } from '../src/index.js';

const tasks = defineTasks({ welcome: z.object({ userId: z.number().int() }) });

// A queue server that accepts connections and never answers: the way a database behind a
// dead network path or a stuck proxy looks to a client.
describe('a queue server that never answers', () => {
  let server: Server;
  let url: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    url = `postgres://nobody@127.0.0.1:${address.port}/queue`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails the enqueue after connectTimeoutMs, and close() returns', async () => {
    const jobs = createJobs({ tasks, connectionString: url, connectTimeoutMs: 300 });
    const enqueued = jobs.enqueueOnCommit('welcome', { userId: 1 });
    await expect(enqueued).rejects.toThrow(/timeout/i);
    // The server saw the attempt: the failure is the timeout, not a refused connection.
    expect(sockets.length).toBeGreaterThan(0);
    await jobs.close();
    expect(jobs.pgPool.totalCount).toBe(0);
  });

  it('refuses a connectTimeoutMs that would mean no limit, a pool size under 1, and options a pool of yours would ignore', async () => {
    // 2^31 ms and above: Node fires such a timer at once, so every connection would time out.
    for (const connectTimeoutMs of [0, -1, 1.5, Number.NaN, 2 ** 31, Number.MAX_SAFE_INTEGER])
      expect(() => createJobs({ tasks, connectionString: url, connectTimeoutMs })).toThrow(
        /connectTimeoutMs/,
      );
    for (const maxPoolSize of [0, -1, 2.5])
      expect(() => createJobs({ tasks, connectionString: url, maxPoolSize })).toThrow(
        /maxPoolSize/,
      );
    const pool = new pg.Pool({ connectionString: url });
    expect(() => createJobs({ tasks, pool, connectTimeoutMs: 1000 })).toThrow(/your pool/);
    expect(() => createJobs({ tasks, pool, maxPoolSize: 3 })).toThrow(/your pool/);
    await pool.end();
  });
});

describe('connectTimeoutMs on a queue server that answers', () => {
  it('bounds connecting only: a call waiting for the next free connection of a busy pool outlasts it', async () => {
    const jobs = createJobs({
      tasks,
      connectionString: postgresAdminUrl(),
      maxPoolSize: 1,
      // Room for a real connection and its authentication on a loaded machine.
      connectTimeoutMs: 1000,
    });
    try {
      const held = await jobs.pgPool.connect();
      const waiting = jobs.pgPool.query('select 1 as one');
      waiting.catch(() => {}); // awaited below; a regression must not surface as unhandled first
      // Three times the limit: the pool's own connectionTimeoutMillis would have failed it.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      held.release();
      const { rows } = await waiting;
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await jobs.close();
    }
  });
});
