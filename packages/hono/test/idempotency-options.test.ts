import { InvalidArgumentError, RacefreeError } from '@racefree/transactions';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type IdempotencyOptions, idempotency, pruneIdempotencyKeys } from '../src/index.js';

// A pool that is never connected: options are checked when the app is built, before any SQL.
const db = drizzle({
  client: new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }),
});

describe('idempotency options', () => {
  const refused: [string, unknown][] = [
    ['methods empty', { methods: [] }],
    ['methods a string', { methods: 'POST' }],
    ['a method with a space', { methods: ['PO ST'] }],
    ['waitMs negative', { waitMs: -1 }],
    ['waitMs a fraction', { waitMs: 1.5 }],
    ['waitMs over ten minutes', { waitMs: 600_001 }],
    ['ttlMs zero', { ttlMs: 0 }],
    ['ttlMs a string', { ttlMs: '1h' }],
    ['scope not a function', { scope: 'user' }],
    ['maxResponseBytes past MEDIUMBLOB', { maxResponseBytes: 16 * 1024 * 1024 }],
    ['storeHeaders with a bad name', { storeHeaders: ['bad header'] }],
    ['prune true', { prune: true }],
    ['prune batch zero', { prune: { batch: 0 } }],
    ['prune with an unknown option', { prune: { every: 10 } }],
    ['an unknown option', { retries: 3 }],
    ['options not an object', 'fast'],
  ];

  for (const [name, options] of refused) {
    it(`refuses ${name} when the app is built`, () => {
      expect(() => idempotency(db, options as IdempotencyOptions)).toThrow(InvalidArgumentError);
    });
  }

  it('accepts the edges of every range', () => {
    expect(() =>
      idempotency(db, {
        methods: ['post', 'PUT', 'DELETE'],
        scope: () => '',
        waitMs: 0,
        ttlMs: 1,
        maxResponseBytes: 16 * 1024 * 1024 - 1,
        storeHeaders: ['Location', 'set-cookie'],
        prune: { everyMs: 0, batch: 10_000 },
      }),
    ).not.toThrow();
    expect(() => idempotency(db, { prune: false, waitMs: 600_000 })).not.toThrow();
  });

  it('refuses what is not a Drizzle database', () => {
    expect(() => idempotency({} as never)).toThrow(InvalidArgumentError);
  });

  it('pruneIdempotencyKeys refuses a bad limit before any SQL', async () => {
    for (const limit of [0, 10_001, 2.5])
      await expect(pruneIdempotencyKeys(db, { limit })).rejects.toThrow(InvalidArgumentError);
  });

  it('every refusal is a RacefreeError with a stable code', () => {
    try {
      idempotency(db, { waitMs: -1 });
    } catch (error) {
      expect(error).toBeInstanceOf(RacefreeError);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect.assertions(2);
  });
});
