import {
  type Book,
  bookstoreTables,
  listBooks,
  listBookTags,
  listSentEmails,
  NotFoundError,
  purchase,
  queryRows,
  SoldOutError,
  tagBook,
} from '@racefree/bookstore';
import { atomicRequests, idempotency } from '@racefree/hono';
import { getOrCreate } from '@racefree/rows';
import { type Database, RacefreeError } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { addAdminRoutes } from './admin-routes.js';
import { APP_JS } from './page/app-js.js';
import { INDEX_HTML } from './page/index-html.js';
import { STYLES_CSS } from './page/styles-css.js';
import { BODY_LIMIT_BYTES } from './http-server.js';
import { createRaceLab, LabRequestError, type RaceLab } from './lab/race-lab.js';
import {
  HttpError,
  jsonBody,
  labBody,
  newBookBody,
  pathId,
  purchaseBody,
  signUpBody,
  tagsBody,
} from './validation.js';

/** A customer as the API returns it. */
export interface CustomerView {
  id: number;
  email: string;
  name: string;
}

/** Sign-up as the app needs it: idempotent by email, enqueuing the welcome email only on create. */
export type SignUp = (
  db: Database,
  input: { email: string; name: string },
) => Promise<{ customer: CustomerView; created: boolean }>;

/** What the app is built from. */
export interface AppOptions {
  db: Database;
  signUp: SignUp;
  /** Re-run a request on deadlocks / serialization failures this many times. Default 3. */
  retries?: number;
  /** Enables the admin actions (reset, reseed) for requests carrying this bearer token. Default: off. */
  adminToken?: string;
  /**
   * The race lab. Default: one on `db` without a job queue (early-job unavailable), sized for
   * a pool of 10.
   */
  lab?: RaceLab;
  /**
   * How long a request waits for an earlier one with the same `Idempotency-Key` before it is
   * answered 409 with `Retry-After`. Default 10 000 ms (`idempotency()`'s own default).
   */
  idempotencyWaitMs?: number;
  /** Where server errors are logged (never sent to clients). Default console.error. */
  logError?: (error: unknown) => void;
}

const bookView = (book: Book) => ({ ...book, price: book.priceCents / 100 });

/** How long `/healthz` waits for the database before answering 503. */
const HEALTH_TIMEOUT_MS = 2000;

/**
 * The bookstore HTTP app. Every write request runs in one transaction (`atomicRequests`): a
 * request answered with an error leaves nothing behind, and after-commit hooks (the welcome
 * email) run before the response leaves. Client mistakes get a 4xx naming the field; nothing a
 * client sends produces a 5xx, and no response carries a stack trace or SQL.
 */
export function createApp(options: AppOptions): Hono {
  const { db } = options;
  const logError =
    options.logError ?? ((error: unknown) => console.error('[web] request failed:', error));
  const app = new Hono();

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
      },
      xFrameOptions: 'DENY',
      xContentTypeOptions: 'nosniff',
      referrerPolicy: 'no-referrer',
    }),
  );
  app.use(
    '/api/*',
    bodyLimit({
      // The HTTP server refuses larger bodies before the app sees them (http-server.ts); this
      // holds for requests that reach the app another way (app.request in tests).
      maxSize: BODY_LIMIT_BYTES,
      onError: () => Promise.reject(new HttpError(413, 'The body is larger than 64 KiB')),
    }),
  );
  // Reads need no transaction; the race lab deliberately runs many concurrent clients, each
  // in its own transaction, so it must not be wrapped in one.
  app.use(
    '/api/*',
    atomicRequests(db, {
      retries: options.retries ?? 3,
      skip: (c) => c.req.method === 'GET' || c.req.path.startsWith('/api/lab/'),
    }),
  );
  // After atomicRequests: the claimed key, the handler's writes and the stored response are
  // one transaction, so a purchase and its replayable answer commit together or not at all.
  const keys = idempotency(
    db,
    options.idempotencyWaitMs === undefined ? {} : { waitMs: options.idempotencyWaitMs },
  );
  const lab = options.lab ?? createRaceLab({ db, poolSize: 10 });

  app.get('/', (c) => c.html(INDEX_HTML));
  app.get('/app.js', (c) =>
    c.body(APP_JS, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/styles.css', (c) =>
    c.body(STYLES_CSS, 200, { 'content-type': 'text/css; charset=utf-8' }),
  );

  app.get('/healthz', async (c) => {
    // Bounded: a health check that hangs while the pool waits for a dead server is no answer
    // to a load balancer. No answer within HEALTH_TIMEOUT_MS counts as down.
    let timer: NodeJS.Timeout | undefined;
    const up = await Promise.race([
      queryRows(db, sql`select 1 as ok`).then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    return c.json({ status: up ? 'ok' : 'degraded', database: up ? 'up' : 'down' }, up ? 200 : 503);
  });

  app.get('/api/books', async (c) => {
    const [books, tagsOf] = await Promise.all([listBooks(db), listBookTags(db)]);
    return c.json(books.map((book) => ({ ...bookView(book), tags: tagsOf.get(book.id) ?? [] })));
  });

  app.post('/api/books', async (c) => {
    const input = await jsonBody(c, newBookBody);
    const { books } = bookstoreTables(db);
    const { row, created } = await getOrCreate(db, books, {
      where: { isbn: input.isbn },
      defaults: { title: input.title, priceCents: input.price, quantity: input.quantity },
    });
    return c.json({ book: bookView(row as Book), created }, created ? 201 : 200);
  });

  app.post('/api/books/:id/tags', async (c) => {
    const bookId = pathId(c, 'id', 'book');
    const input = await jsonBody(c, tagsBody);
    const tagged = await tagBook(db, { bookId, tags: input.tags });
    // 201 when the call changed something; a repeat changes nothing and answers 200.
    return c.json(tagged, tagged.linked.length > 0 ? 201 : 200);
  });

  app.post('/api/books/:id/purchase', keys, async (c) => {
    const bookId = pathId(c, 'id', 'book');
    const input = await jsonBody(c, purchaseBody);
    const order = await purchase(db, {
      bookId,
      customerId: input.customerId,
      strategy: input.strategy,
    });
    return c.json({ order }, 201);
  });

  app.post('/api/customers', keys, async (c) => {
    const input = await jsonBody(c, signUpBody);
    const { customer, created } = await options.signUp(db, input);
    return c.json({ customer, created }, created ? 201 : 200);
  });

  app.get('/api/customers/:id/emails', async (c) => {
    const id = pathId(c, 'id', 'customer');
    const emails = await listSentEmails(db, id);
    return c.json({
      customerId: id,
      emails: emails.map((e) => ({ kind: e.kind, sentAt: e.sentAt.toISOString() })),
    });
  });

  addAdminRoutes(app, db, options.adminToken);

  app.get('/api/lab', async (c) => c.json(await lab.describe()));
  app.post('/api/lab/:race', async (c) => {
    const input = await jsonBody(c, labBody);
    const result = await lab.run(c.req.param('race'), input);
    // A run that failed midway was undone; its JSON says why (completed: false).
    return c.json(result, result.completed ? 200 : 503);
  });

  app.notFound((c) => c.json({ error: `No route for ${c.req.method} ${c.req.path}` }, 404));

  app.onError((error, c) => {
    if (error instanceof HttpError || error instanceof LabRequestError)
      return c.json({ error: error.message }, error.status);
    if (error instanceof SoldOutError)
      return c.json({ error: error.message, code: error.code }, 409);
    if (error instanceof NotFoundError)
      return c.json({ error: error.message, code: error.code }, 404);
    if (error instanceof RacefreeError && error.code === 'INVALID_ARGUMENT')
      return c.json({ error: error.message, code: error.code }, 400);
    logError(error);
    return c.json({ error: 'Internal error; it has been logged.' }, 500);
  });
  return app;
}
