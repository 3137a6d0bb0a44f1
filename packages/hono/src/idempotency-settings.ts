import { InvalidArgumentError } from '@racefree/transactions';
import type { Context } from 'hono';

/** Options of `idempotency`. */
export interface IdempotencyOptions {
  /** The methods whose requests honour `Idempotency-Key`. Default `['POST', 'PATCH']`. */
  methods?: readonly string[];
  /**
   * The namespace of a key: the same key under two scopes is two keys. Return the caller's
   * identity (user or API-key id) so that one client can neither replay nor block another's
   * key. Called once per keyed request, after the key is checked; at most 255 characters.
   * Default: one scope, `''`, for everyone.
   */
  scope?: (c: Context) => string | Promise<string>;
  /**
   * How long a duplicate waits for the first request with its key to finish before it gets a
   * 409 with `Retry-After`. Default 10 000 ms. On MySQL 8 the wait is whole seconds (under a
   * second waits one); PostgreSQL and MariaDB honour milliseconds.
   */
  waitMs?: number;
  /** How long a completed key replays, from when its response was stored. Default 24 h (86 400 000 ms). */
  ttlMs?: number;
  /**
   * The largest response body stored, in bytes. A response above it fails the request: its
   * transaction rolls back, and Hono's error handler gets `IdempotentResponseTooLargeError`.
   * Default 1 MiB; at most 16 MiB − 1 (MySQL's MEDIUMBLOB; its `max_allowed_packet` must
   * exceed the value you choose).
   */
  maxResponseBytes?: number;
  /**
   * Response headers stored and replayed besides `Content-Type` (always stored), e.g.
   * `['location', 'etag']`. Default none: `Set-Cookie` and other per-user headers are never
   * replayed unless named here.
   */
  storeHeaders?: readonly string[];
  /**
   * Deleting expired keys. After a request stores a response, once per `everyMs` per
   * middleware, up to `batch` expired keys are deleted once it has committed (the next request
   * prunes again while full batches come back). `false` turns it off — call
   * `pruneIdempotencyKeys(db)` from a scheduled job instead. Default `{ everyMs: 60_000,
   * batch: 1000 }`.
   */
  prune?: false | { everyMs?: number; batch?: number };
}

/** Validated options with their defaults. */
export interface IdempotencySettings {
  methods: ReadonlySet<string>;
  scope: (c: Context) => string | Promise<string>;
  waitMs: number;
  ttlMs: number;
  maxResponseBytes: number;
  /** Lower-case header names. */
  storeHeaders: readonly string[];
  prune: { everyMs: number; batch: number } | undefined;
}

const DEFAULT_WAIT_MS = 10_000;
const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** MySQL's MEDIUMBLOB holds 2^24 − 1 bytes. */
const MAX_RESPONSE_BYTES_LIMIT = 16 * 1024 * 1024 - 1;

const OPTION_KEYS = new Set([
  'methods',
  'scope',
  'waitMs',
  'ttlMs',
  'maxResponseBytes',
  'storeHeaders',
  'prune',
]);
const PRUNE_KEYS = new Set(['everyMs', 'batch']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function wholeNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidArgumentError(
      `idempotency: ${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  return value;
}

function names(option: string, value: unknown, normalize: (name: string) => string): string[] {
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || !TOKEN.test(name)))
    throw new InvalidArgumentError(
      `idempotency: ${option} must be an array of names, got ${JSON.stringify(value)}`,
    );
  return [...new Set((value as string[]).map(normalize))];
}

/** Checks `options` when the app is built, and fills in the defaults. */
export function idempotencySettings(options: IdempotencyOptions): IdempotencySettings {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('idempotency: options must be an object');
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `idempotency: unknown option ${unknown.join(', ')}; use ${[...OPTION_KEYS].join(', ')}`,
    );
  const methods = names('methods', options.methods ?? ['POST', 'PATCH'], (m) => m.toUpperCase());
  if (methods.length === 0)
    throw new InvalidArgumentError('idempotency: methods must name at least one method');
  const scope = options.scope ?? (() => '');
  if (typeof scope !== 'function')
    throw new InvalidArgumentError('idempotency: scope must be a function (c) => string');
  return {
    methods: new Set(methods),
    scope,
    waitMs: wholeNumber('waitMs', options.waitMs ?? DEFAULT_WAIT_MS, 0, 600_000),
    ttlMs: wholeNumber('ttlMs', options.ttlMs ?? DEFAULT_TTL_MS, 1, 365 * DEFAULT_TTL_MS),
    maxResponseBytes: wholeNumber(
      'maxResponseBytes',
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      0,
      MAX_RESPONSE_BYTES_LIMIT,
    ),
    storeHeaders: names('storeHeaders', options.storeHeaders ?? [], (h) => h.toLowerCase()),
    prune: pruneSettings(options.prune),
  };
}

function pruneSettings(prune: IdempotencyOptions['prune']): IdempotencySettings['prune'] {
  if (prune === false) return undefined;
  if (prune !== undefined && (prune === null || typeof prune !== 'object'))
    throw new InvalidArgumentError('idempotency: prune must be false or { everyMs?, batch? }');
  const unknown = Object.keys(prune ?? {}).filter((key) => !PRUNE_KEYS.has(key));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `idempotency: unknown prune option ${unknown.join(', ')}; use everyMs, batch`,
    );
  return {
    everyMs: wholeNumber('prune.everyMs', prune?.everyMs ?? 60_000, 0, 7 * DEFAULT_TTL_MS),
    batch: wholeNumber('prune.batch', prune?.batch ?? 1000, 1, 10_000),
  };
}
