import type { AddressInfo } from 'node:net';
import { migrate } from '@racefree/bookstore';
import { installIdempotency } from '@racefree/hono';
import { getOrCreate } from '@racefree/rows';
import type { TestConnection } from '@racefree/testkit';
import { bookstoreTables } from '@racefree/bookstore';
import { createApp, type CustomerView, type SignUp } from '../src/create-app.js';
import { createHttpServer } from '../src/http-server.js';
import type { RaceLab } from '../src/lab/race-lab.js';

/** Sign-up without the job (the job path is tested where the queue is). */
export const plainSignUp: SignUp = async (db, input) => {
  const { customers } = bookstoreTables(db);
  const { row, created } = await getOrCreate(db, customers, {
    where: { email: input.email },
    defaults: { name: input.name },
  });
  return { customer: row as CustomerView, created };
};

/**
 * Migrates the test database and serves the app on a free port, through the same HTTP server
 * as `main.ts`; `url` is its base.
 */
export async function serveApp(
  connection: TestConnection,
  signUp: SignUp = plainSignUp,
  options: { lab?: RaceLab; idempotencyWaitMs?: number } = {},
) {
  await migrate(connection.db);
  await installIdempotency(connection.db);
  const errors: unknown[] = [];
  const app = createApp({
    db: connection.db,
    signUp,
    logError: (e) => errors.push(e),
    ...(options.lab ? { lab: options.lab } : {}),
    ...(options.idempotencyWaitMs === undefined
      ? {}
      : { idempotencyWaitMs: options.idempotencyWaitMs }),
  });
  const server = createHttpServer(app.fetch);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    serverErrors: errors,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

export interface Sent {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

/** Sends JSON and returns status and parsed body. */
export async function send(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Sent> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    body: json as Record<string, unknown>,
    text,
    headers: response.headers,
  };
}
