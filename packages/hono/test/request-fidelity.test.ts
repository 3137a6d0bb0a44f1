import { describeDialects } from '@racefree/testkit';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import { expect, it } from 'vitest';
import { atomicRequests } from '../src/index.js';

// With retries, atomicRequests dispatches the handlers after it itself, on a fresh context per
// attempt. From outside, the request must look exactly as it does through Hono's own next().
describeDialects(
  'atomicRequests: a request looks the same with and without retries',
  (t) => {
    const build = (retries: number) => {
      const app = new Hono<{ Variables: { user: string; seen: string } }>();
      app.use(cors({ origin: 'https://shop.example' }));
      app.use(async (c, next) => {
        c.header('x-request-id', 'req-1');
        setCookie(c, 'session', 'abc');
        c.set('user', 'ada');
        await next();
        c.header('x-after', `seen=${c.get('seen')}`);
      });
      app.use(atomicRequests(t.connection.db, { retries }));
      app.post('/books/:id/review', async (c, next) => {
        c.set('seen', `${c.get('user')}:${c.req.param('id')}`);
        await next();
      });
      app.post('/books/:id/review', async (c) => {
        const body = await c.req.text();
        setCookie(c, 'last-review', c.req.param('id'));
        return c.json(
          { id: c.req.param('id'), user: c.get('user'), body, session: getCookie(c, 'session') },
          201,
          { 'x-handler': 'yes' },
        );
      });
      app.get('/raw', () => new Response('raw body', { headers: { 'x-raw': '1' } }));
      return app;
    };

    const snapshot = async (response: Response) => ({
      status: response.status,
      body: await response.text(),
      headers: Object.fromEntries(
        [...response.headers].filter(
          ([name]) => !['content-length', 'date', 'set-cookie'].includes(name),
        ),
      ),
      cookies: response.headers.getSetCookie(),
    });

    it('same status, body, headers, cookies, params and variables', async () => {
      const request = () =>
        new Request('http://localhost/books/42/review', {
          method: 'POST',
          body: 'five stars',
          headers: { origin: 'https://shop.example', cookie: 'session=abc' },
        });
      const plain = await snapshot(await build(0).request(request()));
      const retried = await snapshot(await build(3).request(request()));
      expect(plain).toMatchObject({
        status: 201,
        body: JSON.stringify({ id: '42', user: 'ada', body: 'five stars', session: 'abc' }),
        headers: {
          'access-control-allow-origin': 'https://shop.example',
          'x-request-id': 'req-1',
          'x-handler': 'yes',
          'x-after': 'seen=ada:42',
        },
      });
      expect(plain.cookies).toEqual(['session=abc; Path=/', 'last-review=42; Path=/']);
      expect(retried).toEqual(plain);
    });

    it('same for a 404', async () => {
      const plain = await snapshot(await build(0).request('/missing'));
      const retried = await snapshot(await build(3).request('/missing'));
      expect(plain.status).toBe(404);
      expect(retried).toEqual(plain);
    });

    it('a bare Response keeps everything Hono gives it, plus the headers set before the middleware', async () => {
      // The one deliberate difference: Hono drops headers and cookies set with c.header() /
      // setCookie() before next() when a handler returns a bare Response; the retrying path
      // keeps them (they were set for this request, and dropping them silently helps no one).
      const plain = await snapshot(await build(0).request('/raw'));
      const retried = await snapshot(await build(3).request('/raw'));
      expect(plain).toMatchObject({ status: 200, body: 'raw body', cookies: [] });
      expect(retried).toEqual({
        ...plain,
        headers: { ...plain.headers, 'x-request-id': 'req-1' },
        cookies: ['session=abc; Path=/'],
      });
    });
  },
  { kinds: ['postgres'] },
);
