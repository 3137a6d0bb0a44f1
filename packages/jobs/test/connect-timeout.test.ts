import { createServer, type Server, type Socket } from 'node:net';
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

  it('refuses a connectTimeoutMs that would mean no limit', () => {
    for (const connectTimeoutMs of [0, -1, 1.5, Number.NaN])
      expect(() => createJobs({ tasks, connectionString: url, connectTimeoutMs })).toThrow(
        /connectTimeoutMs/,
      );
  });
});
