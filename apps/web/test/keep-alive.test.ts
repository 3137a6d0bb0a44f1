import { describeDialects, type TestConnection } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RawConnection } from './raw-http.js';
import { serveApp } from './serve-app.js';

const json = { 'content-type': 'application/json' };
const megabyte = (field: string) => JSON.stringify({ [field]: 'x'.repeat(1024 * 1024) });

describeDialects('HTTP keep-alive stays honest', (t) => {
  let pool: TestConnection;
  let served: Awaited<ReturnType<typeof serveApp>>;
  beforeAll(async () => {
    pool = await t.connect({ max: 8 });
    served = await serveApp(pool);
  });
  afterAll(() => served?.close());

  it('one socket survives a sequence of hostile requests, each answered in turn', async () => {
    const socket = await RawConnection.open(served.url);
    try {
      const sequence: [string, () => ReturnType<RawConnection['request']>, number][] = [
        ['GET /healthz', () => socket.request('GET', '/healthz'), 200],
        [
          '1 MB POST (Content-Length)',
          () => socket.request('POST', '/api/customers', { headers: json, body: megabyte('name') }),
          413,
        ],
        ['GET /api/books after it', () => socket.request('GET', '/api/books'), 200],
        [
          '1 MB POST (chunked)',
          () =>
            socket.request('POST', '/api/customers', {
              headers: json,
              body: megabyte('email'),
              chunked: true,
            }),
          413,
        ],
        [
          'bad JSON',
          () => socket.request('POST', '/api/books', { headers: json, body: '{x' }),
          400,
        ],
        [
          'not JSON',
          () =>
            socket.request('POST', '/api/books', {
              headers: { 'content-type': 'text/plain' },
              body: 'hello',
            }),
          415,
        ],
        [
          'a 60 KiB body to a route that does not exist',
          () => socket.request('POST', '/nope', { headers: json, body: 'y'.repeat(60 * 1024) }),
          404,
        ],
        [
          'an unknown race',
          () =>
            socket.request('POST', '/api/lab/teleport', {
              headers: json,
              body: '{"strategy":"naive"}',
            }),
          404,
        ],
        [
          'an unknown strategy',
          () =>
            socket.request('POST', '/api/lab/oversell', {
              headers: json,
              body: '{"strategy":"yolo"}',
            }),
          400,
        ],
        [
          '501 clients',
          () =>
            socket.request('POST', '/api/lab/oversell', {
              headers: json,
              body: '{"strategy":"naive","clients":501}',
            }),
          400,
        ],
        [
          'a real lab run',
          () =>
            socket.request('POST', '/api/lab/oversell', {
              headers: json,
              body: '{"strategy":"atomic","clients":12}',
            }),
          200,
        ],
        ['GET /api/books at the end', () => socket.request('GET', '/api/books'), 200],
      ];
      for (const [what, send, status] of sequence) {
        const response = await send();
        expect(response.status, `${what}: ${response.body.slice(0, 200)}`).toBe(status);
        // Each answer leaves the connection open, and does not claim otherwise.
        expect(response.headers.connection, what).not.toBe('close');
        expect(socket.isClosed, what).toBe(false);
      }
    } finally {
      socket.close();
    }
    expect(served.serverErrors).toEqual([]);
  });

  it('a body too large to drain gets 413 with Connection: close, and then the close', async () => {
    const socket = await RawConnection.open(served.url);
    const response = await socket.request('POST', '/api/customers', {
      headers: { ...json, 'content-length': String(64 * 1024 * 1024) },
    });
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    await socket.closed;
  });

  it("Node's fetch (undici, keep-alive) can send a GET right after a 1 MB POST", async () => {
    for (let round = 0; round < 3; round++) {
      const big = await fetch(`${served.url}/api/customers`, {
        method: 'POST',
        headers: json,
        body: megabyte('name'),
      });
      expect(big.status).toBe(413);
      await big.text();
      const next = await fetch(`${served.url}/api/books`);
      expect(next.status).toBe(200);
      await next.text();
    }
  });
});
