import { setTimeout as sleep } from 'node:timers/promises';
import type { InvariantOutcome } from './check-bookstore-invariants.js';
import type { CleanupStack } from './cleanup-stack.js';
import { requestJson } from './request-json.js';

/** Options of `HttpLoad`. */
export interface HttpLoadOptions {
  /** Base URLs of the web processes; clients go round them. Read on every request. */
  targets: () => readonly string[];
  /** Concurrent clients. */
  clients: number;
  /** Makes the sign-up emails of this load unique. */
  emailPrefix: string;
  /** Book ids the clients buy from. */
  bookIds: readonly number[];
  /** Purchases after each sign-up (0: a sign-up burst). */
  purchasesPerSignUp: number;
  /**
   * Send every purchase and sign-up with an `Idempotency-Key` (one per intended purchase or
   * sign-up) and retry a lost answer with the same key until a final answer comes — across a
   * restart, and after `stop()`, which then waits for those retries. Default: purchases whose
   * answer was lost are dropped.
   */
  idempotencyKeys?: boolean;
}

/** A purchase sent with an `Idempotency-Key`, and how its retries ended. */
export interface KeyedPurchase {
  key: string;
  path: string;
  body: { customerId: number; strategy: string };
  /** Requests sent with the key (1: the first one was answered). */
  attempts: number;
  /** Attempts that got no answer (the web was killed or not up). */
  lostAnswers: number;
  /**
   * Of those, attempts the server had accepted — the connection was cut, not refused: the
   * kill landed while the request was in the web process.
   */
  cutOff: number;
  /** The final answer: 201 bought, 409 sold out (anything else is counted unexpected). */
  final?: { status: number; text: string; replayed: boolean; orderId?: number };
}

/** Counters of a load run. */
export interface HttpLoadStats {
  /** 2xx answers. */
  successes: number;
  signUpsCreated: number;
  signUpsExisting: number;
  orders: number;
  soldOut: number;
  /** Requests that got no answer (the server was killed, or not up yet). */
  unanswered: number;
  /** Keyed requests answered 409 with `Retry-After`: their key's first request still ran. */
  inProgress: number;
  /** 5xx answers: never expected from a live server under load. */
  serverErrors: number;
  /** Other 4xx answers (none expected). */
  clientErrors: number;
  samples: string[];
}

const STRATEGIES = ['atomic', 'lock'] as const;

/**
 * Purchase + sign-up load over real HTTP: each client signs a new customer up, then buys books
 * for them. A request that gets no answer has an unknown outcome; the client retries that
 * sign-up with the same email (idempotent: 201 or 200 tells it what happened) and drops the
 * purchase (its outcome is left to the stock invariant). Everything the server acknowledged is
 * remembered, to be found in the database afterwards.
 */
export class HttpLoad {
  readonly stats: HttpLoadStats = {
    successes: 0,
    signUpsCreated: 0,
    signUpsExisting: 0,
    orders: 0,
    soldOut: 0,
    unanswered: 0,
    inProgress: 0,
    serverErrors: 0,
    clientErrors: 0,
    samples: [],
  };
  /** Acknowledged customers: email → id. */
  readonly customers = new Map<string, number>();
  /** Acknowledged order ids. */
  readonly orders = new Set<number>();
  /** Every keyed purchase (with `idempotencyKeys`), in the order they started. */
  readonly keyed: KeyedPurchase[] = [];
  private stopped = false;
  private running: Promise<void>[] = [];
  private readonly waiters = new Set<() => void>();
  private nextTarget = 0;

  constructor(private readonly options: HttpLoadOptions) {}

  /** Starts the clients. */
  start(): void {
    this.running = Array.from({ length: this.options.clients }, (_, client) => this.client(client));
  }

  /** The invariant every load checks: no `what` was answered 5xx or an unexpected 4xx. */
  noErrorAnswers(what: string): InvariantOutcome {
    return {
      invariant: `no ${what} answered 5xx (or an unexpected 4xx)`,
      held: this.stats.serverErrors === 0 && this.stats.clientErrors === 0,
      detail: this.stats.samples.join(' | ') || undefined,
    };
  }

  /**
   * Resolves once `total` successful (2xx) answers have been observed. Rejects when the
   * servers stop making progress: no new 2xx answer for `stallMs` (default 60 s).
   */
  whenSuccesses(total: number, stallMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastCount = this.stats.successes;
      const stall = setInterval(() => {
        if (this.stats.successes === lastCount) {
          this.waiters.delete(check);
          clearInterval(stall);
          reject(
            new Error(
              `the load stalled: no successful answer for ${stallMs / 1000} s (${this.stats.successes} of ${total}; ${this.stats.unanswered} unanswered)`,
            ),
          );
        }
        lastCount = this.stats.successes;
      }, stallMs);
      const check = () => {
        if (this.stats.successes >= total) {
          this.waiters.delete(check);
          clearInterval(stall);
          resolve();
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Stops issuing requests and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  private target(): string {
    const targets = this.options.targets();
    const target = targets[this.nextTarget++ % targets.length];
    if (target === undefined) throw new Error('HttpLoad: no target');
    return target;
  }

  private note(kind: keyof HttpLoadStats, sample?: string): void {
    const stats = this.stats as unknown as Record<string, number>;
    stats[kind] = (stats[kind] ?? 0) + 1;
    if (sample && this.stats.samples.length < 5) this.stats.samples.push(sample);
  }

  private succeeded(): void {
    this.stats.successes += 1;
    for (const waiter of this.waiters) waiter();
  }

  private async client(client: number): Promise<void> {
    const { emailPrefix, bookIds, purchasesPerSignUp } = this.options;
    for (let sequence = 0; !this.stopped; sequence++) {
      const email = `${emailPrefix}-${client}-${sequence}@example.com`;
      const customerId = await this.signUp(email);
      if (customerId === undefined) return;
      if (customerId === 'refused') continue;
      for (let i = 0; i < purchasesPerSignUp && !this.stopped; i++) {
        const bookId = bookIds[(client + sequence + i) % bookIds.length] ?? 1;
        const strategy = STRATEGIES[(sequence + i) % STRATEGIES.length] ?? 'atomic';
        if (this.options.idempotencyKeys) {
          await this.purchaseWithKey({
            key: `${emailPrefix}-${client}-${sequence}-${i}`,
            path: `/api/books/${bookId}/purchase`,
            body: { customerId, strategy },
            attempts: 0,
            lostAnswers: 0,
            cutOff: 0,
          });
          continue;
        }
        const answer = await requestJson(`${this.target()}/api/books/${bookId}/purchase`, {
          body: { customerId, strategy },
        });
        if (!answer.ok) {
          this.note('unanswered');
          await sleep(20);
        } else if (answer.status === 201) {
          this.orders.add((answer.body as { order: { orderId: number } }).order.orderId);
          this.note('orders');
          this.succeeded();
        } else if (answer.status === 409) this.note('soldOut');
        else {
          this.noteUnexpected(answer.status, `purchase → ${answer.status} ${answer.text}`);
          await sleep(20);
        }
      }
    }
  }

  /**
   * Sends one keyed purchase until it gets a final answer: a lost answer or a "still running"
   * 409 (it has `Retry-After`) is retried with the same key and body; 201 and the bookstore's
   * sold-out 409 (no `Retry-After`) are final. Gives up only when the servers stop answering
   * for `stallMs`, leaving `final` unset (an invariant then fails).
   */
  private async purchaseWithKey(purchase: KeyedPurchase, stallMs = 60_000): Promise<void> {
    this.keyed.push(purchase);
    let lastAnswerAt = Date.now();
    for (;;) {
      purchase.attempts += 1;
      const answer = await requestJson(`${this.target()}${purchase.path}`, {
        body: purchase.body,
        headers: { 'idempotency-key': purchase.key },
      });
      if (!answer.ok) {
        purchase.lostAnswers += 1;
        if (answer.error !== 'ECONNREFUSED') purchase.cutOff += 1;
        this.note('unanswered');
        if (Date.now() - lastAnswerAt > stallMs) return;
        await sleep(20);
        continue;
      }
      lastAnswerAt = Date.now();
      const retryAfter = Number(answer.headers.get('retry-after') ?? 0);
      if (answer.status === 409 && retryAfter > 0) {
        this.note('inProgress');
        await sleep(retryAfter * 1000);
        continue;
      }
      const replayed = answer.headers.get('idempotent-replayed') === 'true';
      purchase.final = { status: answer.status, text: answer.text, replayed };
      if (answer.status === 201) {
        const orderId = (answer.body as { order: { orderId: number } }).order.orderId;
        purchase.final.orderId = orderId;
        this.orders.add(orderId);
        this.note('orders');
        this.succeeded();
      } else if (answer.status === 409) this.note('soldOut');
      else this.noteUnexpected(answer.status, `keyed purchase → ${answer.status} ${answer.text}`);
      return;
    }
  }

  /** Signs `email` up, retrying while unanswered; undefined once the load is stopped. */
  private async signUp(email: string): Promise<number | 'refused' | undefined> {
    const headers: Record<string, string> = this.options.idempotencyKeys
      ? { 'idempotency-key': `sign-up-${email}` }
      : {};
    while (!this.stopped) {
      const answer = await requestJson(`${this.target()}/api/customers`, {
        body: { email, name: 'Reliability' },
        headers,
      });
      if (!answer.ok) {
        this.note('unanswered');
        await sleep(20);
        continue;
      }
      const retryAfter = Number(answer.headers.get('retry-after') ?? 0);
      if (answer.status === 409 && retryAfter > 0) {
        this.note('inProgress');
        await sleep(retryAfter * 1000);
        continue;
      }
      if (answer.status === 201 || answer.status === 200) {
        const { customer } = answer.body as { customer: { id: number } };
        this.customers.set(email, customer.id);
        this.note(answer.status === 201 ? 'signUpsCreated' : 'signUpsExisting');
        this.succeeded();
        return customer.id;
      }
      this.noteUnexpected(answer.status, `sign-up → ${answer.status} ${answer.text}`);
      await sleep(20);
      return 'refused';
    }
    return undefined;
  }

  private noteUnexpected(status: number, sample: string): void {
    this.note(status >= 500 ? 'serverErrors' : 'clientErrors', sample.slice(0, 300));
  }
}

/** Starts an `HttpLoad` whose clients `cleanup` stops (before the apps and databases go). */
export function startHttpLoad(options: HttpLoadOptions, cleanup: CleanupStack): HttpLoad {
  const load = new HttpLoad(options);
  load.start();
  cleanup.defer(() => load.stop());
  return load;
}
