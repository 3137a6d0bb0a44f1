import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  atomic,
  current,
  type Database,
  InvalidArgumentError,
  onCommit,
  onRollback,
  RacefreeError,
  UnmanagedTransactionError,
} from '../src/index.js';
import { executeStatement } from '../src/internal.js';
import { withRollback } from '../src/testing/index.js';
import { errorOf, statementLog } from './support/helpers.js';

// Bad input is refused with a clear RacefreeError before any SQL of the operation is sent.
// "Sent" is counted by Drizzle's logger and, on postgres.js, also by postgres.js's own debug
// hook: postgres.js issues BEGIN and SAVEPOINT itself, where Drizzle's logger cannot see them
// (Drizzle's node-postgres and mysql2 sessions send those as statements of their own).
describeDialects('bad input is refused before any SQL is sent', (t) => {
  let db: Database;
  let sent: string[];
  /** The statements sent while `fn` runs. */
  const sentDuring = async (fn: () => Promise<unknown>): Promise<string[]> => {
    const before = sent.length;
    await fn();
    return sent.slice(before);
  };
  /** Asserts `operation` fails with `type` and sends nothing; returns the error. */
  const refused = async <E extends RacefreeError>(
    operation: () => Promise<unknown>,
    type: new (...args: never[]) => E,
  ): Promise<E> => {
    let error: unknown;
    const statements = await sentDuring(async () => {
      error = await errorOf(operation());
    });
    expect(error).toBeInstanceOf(type);
    expect(error).toBeInstanceOf(RacefreeError);
    expect(statements).toEqual([]);
    return error as E;
  };
  const neverCalled = async () => {
    throw new Error('the block must not run');
  };

  let closeClient = async () => {};
  afterAll(() => closeClient());

  beforeAll(async () => {
    const log = statementLog();
    sent = log.statements;
    if (t.driver === 'postgres-js') {
      const client = postgres(t.database.url, {
        max: 2,
        onnotice: () => {},
        debug: (_connection, query) => sent.push(`[driver] ${query}`),
      });
      db = drizzle({ client, logger: log.logger });
      closeClient = () => client.end({ timeout: 5 });
    } else {
      db = (await t.connect({ max: 2, logger: log.logger })).db;
    }
    await t.connection.query('create table notes (id int primary key)');
  });

  it('the counter sees what a block sends (so an empty count means something)', async () => {
    const statements = await sentDuring(() =>
      atomic(db, async (tx) => {
        await atomic(tx, (inner) => executeStatement(inner, sql`select 1`));
      }),
    );
    expect(statements.join('\n')).toMatch(/begin/i);
    expect(statements.join('\n')).toMatch(/savepoint/i);
    expect(statements.join('\n')).toMatch(/select 1/i);
  });

  it('an unknown isolation level, before the one-time dialect probe even', async () => {
    for (const level of ['snapshot', 'READ COMMITTED', '', 42]) {
      const error = await refused(
        () => atomic(db, neverCalled, { isolationLevel: level as never }),
        InvalidArgumentError,
      );
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/isolation level/);
      expect(error.message).toContain("'serializable'");
    }
  });

  it('a nested block asking for another isolation level than the running one', async () => {
    let nestedRan = false;
    const running = t.kind === 'postgres' ? 'read committed' : 'repeatable read';
    await atomic(db, async (tx) => {
      const error = await refused(
        () =>
          atomic(
            tx,
            async () => {
              nestedRan = true;
            },
            { isolationLevel: 'serializable' },
          ),
        InvalidArgumentError,
      );
      expect(error.message).toContain(`'${running}'`);
      // The running level itself is fine, and the transaction carries on.
      await atomic(tx, (inner) => executeStatement(inner, sql`insert into notes values (1)`), {
        isolationLevel: running,
      });
    });
    expect(nestedRan).toBe(false);
    expect(await t.connection.query('select id from notes')).toHaveLength(1);
    await t.connection.query('delete from notes');
  });

  it('the level of an explicit outer block is the running one', async () => {
    await atomic(
      db,
      async (tx) => {
        await refused(
          () => atomic(tx, neverCalled, { isolationLevel: 'read committed' }),
          InvalidArgumentError,
        );
        await atomic(tx, async () => {}, { isolationLevel: 'serializable' });
      },
      { isolationLevel: 'serializable' },
    );
  });

  it('a transaction atomic did not open: onCommit/onRollback({ db: rawTx }), atomic(rawTx), withRollback(rawTx)', async () => {
    const ran: string[] = [];
    await (db as { transaction(fn: (tx: Database) => Promise<void>): Promise<void> }).transaction(
      async (rawTx) => {
        const hook = await refused(
          () => onCommit(() => ran.push('commit hook'), { db: rawTx }),
          UnmanagedTransactionError,
        );
        expect(hook.code).toBe('UNMANAGED_TRANSACTION');
        expect(hook.message).toMatch(/open transactions with atomic/);
        await refused(
          () => onRollback(() => ran.push('rollback hook'), { db: rawTx }),
          UnmanagedTransactionError,
        );
        await refused(() => atomic(rawTx, neverCalled), UnmanagedTransactionError);
        await refused(() => withRollback(rawTx, neverCalled), UnmanagedTransactionError);
      },
    );
    expect(ran).toEqual([]); // not now, not at its commit
  });

  it('something that is not a Drizzle database: null, {}, a string, the raw driver client', async () => {
    const notDatabases: unknown[] = [null, undefined, {}, 'postgres://x', t.connection.client];
    for (const value of notDatabases) {
      const error = await refused(
        () => atomic(value as Database, neverCalled),
        InvalidArgumentError,
      );
      expect(error.message).toMatch(/needs a Drizzle database/);
      await refused(() => withRollback(value as Database, neverCalled), InvalidArgumentError);
      if (value !== undefined) {
        // (`{ db: undefined }` is the option left out: the innermost block, or none.)
        await refused(
          () => onCommit(() => undefined, { db: value as Database }),
          InvalidArgumentError,
        );
      }
      expect(() => current(value as Database)).toThrow(InvalidArgumentError);
    }
  });

  it('a block that is not a function, a hook that is not a function', async () => {
    for (const value of [undefined, null, 'fn', {}]) {
      await refused(() => atomic(db, value as never), InvalidArgumentError);
      await refused(() => withRollback(db, value as never), InvalidArgumentError);
      await refused(() => onCommit(value as never), InvalidArgumentError);
      await refused(() => onRollback(value as never), InvalidArgumentError);
    }
  });

  it('bad retries', async () => {
    const bad = [
      -1,
      1.5,
      Number.NaN,
      '3',
      1001,
      { retries: -1 },
      { retries: 2, baseDelayMs: -5 },
      // The old spelling: refused, so a caller never gets one attempt more than the number form gives.
      { attempts: 2 },
      null,
    ];
    for (const retries of bad) {
      const error = await refused(
        () => atomic(db, neverCalled, { retries: retries as never }),
        InvalidArgumentError,
      );
      expect(error.message).toMatch(/retr/);
    }
  });

  it('the same word is the same count: retries: 2 and { retries: 2 } both mean 3 attempts', async () => {
    for (const retries of [2, { retries: 2, baseDelayMs: 0 }]) {
      let attempts = 0;
      const error = await errorOf(
        atomic(
          db,
          () => {
            attempts += 1;
            // A serialization failure as a driver raises it: retried by every atomic block.
            throw Object.assign(new Error('could not serialize access'), {
              code: t.kind === 'postgres' ? '40001' : undefined,
              errno: t.kind === 'postgres' ? undefined : 1020,
            });
          },
          { retries },
        ),
      );
      expect((error as RacefreeError).code).toBe('RETRY_EXHAUSTED');
      expect(attempts).toBe(3);
    }
  });

  it('options atomic does not know, and a bad accessMode', async () => {
    for (const options of [
      { retry: 3 },
      { isolation: 'serializable' },
      { accessMode: 'read-only' },
    ]) {
      await refused(() => atomic(db, neverCalled, options as never), InvalidArgumentError);
    }
  });

  it('a transaction whose block has ended', async () => {
    let leaked: Database | undefined;
    await atomic(db, async (tx) => {
      leaked = tx;
    });
    const error = await refused(() => atomic(leaked as Database, neverCalled), RacefreeError);
    expect(error.code).toBe('TRANSACTION_ENDED');
  });
});
