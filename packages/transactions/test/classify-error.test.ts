import { describeDialects, type TestConnection } from '@racefree/testkit';
import { DrizzleQueryError, type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import postgres from 'postgres';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  type Database,
  type ErrorClass,
  isDeadlock,
  isLockNotAvailable,
  isSerializationFailure,
  isTransient,
  isUniqueViolation,
} from '../src/index.js';
import { executeRows, executeStatement } from '../src/internal.js';
import {
  createBallast,
  deadlockingPartner,
  errorOf,
  lockAccount,
  resetAccounts,
} from './support/helpers.js';

/**
 * Asserts `error` is classified as `expected`, wrapped (as Drizzle raised it) and unwrapped (its
 * driver error), and that every predicate agrees with the taxonomy.
 */
function expectClassified(error: unknown, expected: ErrorClass): void {
  const shapes = [error, (error as { cause?: unknown }).cause];
  for (const shape of shapes) {
    expect(classifyError(shape)).toEqual(expected);
    expect(isUniqueViolation(shape)).toBe(expected.kind === 'unique_violation');
    expect(isDeadlock(shape)).toBe(expected.kind === 'deadlock');
    expect(isSerializationFailure(shape)).toBe(expected.kind === 'serialization_failure');
    expect(isLockNotAvailable(shape)).toBe(expected.kind === 'lock_not_available');
    expect(isTransient(shape)).toBe(expected.retryable);
  }
}

/** Runs `statement` through Drizzle and returns the DrizzleQueryError it raised. */
async function drizzleError(db: Database, statement: SQL): Promise<DrizzleQueryError> {
  const error = await errorOf(executeStatement(db, statement));
  expect(error).toBeInstanceOf(DrizzleQueryError);
  return error as DrizzleQueryError;
}

// Every classifier against errors the servers really raise, through Drizzle (DrizzleQueryError
// with the driver error as `cause`) and straight from the driver.
describeDialects('error classifiers on real errors', (t) => {
  const db = () => t.connection.db;
  let holder: TestConnection;
  const onPostgres = t.kind === 'postgres';
  /** The error class each driver raises for a server error. */
  const serverError = { 'postgres-js': postgres.PostgresError, 'node-postgres': pg.DatabaseError };
  const driverCheck = (error: unknown) => {
    const cause = (error as { cause?: unknown }).cause;
    if (t.driver === 'mysql2') expect(typeof (cause as { errno?: unknown }).errno).toBe('number');
    else expect(cause).toBeInstanceOf(serverError[t.driver]);
  };

  beforeAll(async () => {
    holder = await t.connect({ max: 3 });
    await resetAccounts(t.connection);
    await createBallast(t.connection);
    await t.connection.query('create table parents (id int primary key)');
    await t.connection.query(
      'create table children (id int primary key, parent_id int, constraint children_parent_fk foreign key (parent_id) references parents (id))',
    );
    await t.connection.query(
      `create table items (id int primary key, code varchar(50) not null, qty int not null,
        constraint items_code_unique unique (code),
        constraint items_qty_nonnegative check (qty >= 0))`,
    );
    await t.connection.query('insert into parents (id) values (1)');
    await t.connection.query('insert into children (id, parent_id) values (1, 1)');
    await t.connection.query("insert into items (id, code, qty) values (1, 'taken', 1)");
  });
  beforeEach(async () => {
    await resetAccounts(t.connection);
  });

  /** Holds the row lock on account 1 in another transaction while `fn` runs. */
  async function whileAccountLocked<T>(fn: () => Promise<T>): Promise<T> {
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const holding = atomic(holder.db, async (tx) => {
      await lockAccount(tx, 1);
      locked();
      await finished;
    });
    await isLocked;
    try {
      return await fn();
    } finally {
      finish();
      await holding;
    }
  }

  it('unique violation, with the constraint the server names', async () => {
    const error = await drizzleError(
      db(),
      sql`insert into items (id, code, qty) values (2, 'taken', 1)`,
    );
    driverCheck(error);
    expectClassified(error, {
      kind: 'unique_violation',
      constraint: 'items_code_unique',
      retryable: false,
    });
    expect(isUniqueViolation(error, 'items_code_unique')).toBe(true);
    expect(isUniqueViolation(error.cause, 'items_code_unique')).toBe(true);
    expect(isUniqueViolation(error, 'items_pkey')).toBe(false);
  });

  it('unique violation: a value that itself reads "for key \'…\'" does not hide the key', async () => {
    const value = "x' for key 'items_pkey";
    await t.connection.query(
      `insert into items (id, code, qty) values (4, '${value.replaceAll("'", "''")}', 1)`,
    );
    const error = await drizzleError(
      db(),
      sql`insert into items (id, code, qty) values (5, ${value}, 1)`,
    );
    expectClassified(error, {
      kind: 'unique_violation',
      constraint: 'items_code_unique',
      retryable: false,
    });
  });

  it('unique violation of the primary key names the key', async () => {
    const error = await drizzleError(
      db(),
      sql`insert into items (id, code, qty) values (1, 'fresh', 1)`,
    );
    const key = onPostgres ? 'items_pkey' : 'PRIMARY';
    expectClassified(error, { kind: 'unique_violation', constraint: key, retryable: false });
    expect(isUniqueViolation(error, key)).toBe(true);
  });

  it('unique violation straight from the driver (no Drizzle in between)', async () => {
    const error = await errorOf(
      t.connection.query("insert into items (id, code, qty) values (3, 'taken', 1)"),
    );
    expect(error).not.toBeInstanceOf(DrizzleQueryError);
    expect(classifyError(error)).toEqual({
      kind: 'unique_violation',
      constraint: 'items_code_unique',
      retryable: false,
    });
    expect(isUniqueViolation(error, 'items_code_unique')).toBe(true);
  });

  it('foreign key violation, inserting a child and deleting a parent', async () => {
    const insert = await drizzleError(
      db(),
      sql`insert into children (id, parent_id) values (2, 999)`,
    );
    driverCheck(insert);
    expectClassified(insert, {
      kind: 'foreign_key_violation',
      constraint: 'children_parent_fk',
      retryable: false,
    });
    const remove = await drizzleError(db(), sql`delete from parents where id = 1`);
    expectClassified(remove, {
      kind: 'foreign_key_violation',
      constraint: 'children_parent_fk',
      retryable: false,
    });
  });

  it('not-null violation, explicit null and (MySQL strict mode) a missing column', async () => {
    const explicit = await drizzleError(
      db(),
      sql`insert into items (id, code, qty) values (4, null, 1)`,
    );
    driverCheck(explicit);
    expectClassified(explicit, { kind: 'not_null_violation', retryable: false });
    const missing = await drizzleError(db(), sql`insert into items (id, qty) values (5, 1)`);
    expectClassified(missing, { kind: 'not_null_violation', retryable: false });
  });

  it('check violation, with the constraint the server names', async () => {
    const error = await drizzleError(
      db(),
      sql`insert into items (id, code, qty) values (6, 'negative', -1)`,
    );
    driverCheck(error);
    expectClassified(error, {
      kind: 'check_violation',
      constraint: 'items_qty_nonnegative',
      retryable: false,
    });
  });

  it('deadlock', async () => {
    const partner = deadlockingPartner({ kind: t.kind, partners: holder, observer: t.connection });
    const error = await errorOf(
      atomic(db(), async (tx) => {
        await lockAccount(tx, 1);
        await partner.meet();
        await lockAccount(tx, 2);
      }),
    );
    await partner.done;
    expect(error).toBeInstanceOf(DrizzleQueryError);
    driverCheck(error);
    expect(
      onPostgres ? (error as { cause: { code: string } }).cause.code : (error as any).cause.errno,
    ).toBe(onPostgres ? '40P01' : 1213);
    expectClassified(error, { kind: 'deadlock', retryable: true });
  });

  it('serialization failure (PostgreSQL 40001 / MariaDB 1020 under innodb_snapshot_isolation)', async () => {
    const error = await errorOf(
      atomic(
        db(),
        async (tx) => {
          if (!onPostgres)
            await executeStatement(tx, sql`set session innodb_snapshot_isolation = ON`);
          await executeRows(tx, sql`select balance from accounts where id = 1`); // the snapshot
          await holder.query('update accounts set balance = balance + 1 where id = 1');
          await executeStatement(tx, sql`update accounts set balance = balance + 10 where id = 1`);
        },
        onPostgres ? { isolationLevel: 'repeatable read' } : {},
      ),
    );
    expect(error).toBeInstanceOf(DrizzleQueryError);
    expect(
      onPostgres ? (error as { cause: { code: string } }).cause.code : (error as any).cause.errno,
    ).toBe(onPostgres ? '40001' : 1020);
    expectClassified(error, { kind: 'serialization_failure', retryable: true });
  });

  it('NOWAIT on a locked row: lock not available, not transient', async () => {
    const error = await whileAccountLocked(() =>
      errorOf(
        atomic(db(), (tx) =>
          executeRows(tx, sql`select balance from accounts where id = 1 for update nowait`),
        ),
      ),
    );
    driverCheck(error);
    // What the servers really say: PostgreSQL 55P03 "could not obtain lock on row"; MariaDB
    // 10.11 answers 1205 "Lock wait timeout exceeded" — the lock-wait-timeout code — so only the
    // statement's NOWAIT tells them apart (MySQL 8 has its own 3572; see the fixtures file).
    expect(
      onPostgres ? (error as { cause: { code: string } }).cause.code : (error as any).cause.errno,
    ).toBe(onPostgres ? '55P03' : 1205);
    expectClassified(error, { kind: 'lock_not_available', retryable: false });
  });

  it('NOWAIT straight from the driver, and MariaDB’s WAIT 0', async () => {
    const statements = onPostgres
      ? ['select balance from accounts where id = 1 for update nowait']
      : [
          'select balance from accounts where id = 1 for update nowait',
          'select balance from accounts where id = 1 for update wait 0',
        ];
    for (const statement of statements) {
      const error = await whileAccountLocked(() =>
        errorOf(
          (async () => {
            const connection = await t.connect({ max: 1 });
            await connection.query('begin');
            await connection.query(statement);
          })(),
        ),
      );
      expect(error).not.toBeInstanceOf(DrizzleQueryError);
      expect(classifyError(error)).toEqual({ kind: 'lock_not_available', retryable: false });
    }
  });

  it('lock-wait timeout: transient (PostgreSQL lock_timeout, MariaDB innodb_lock_wait_timeout)', async () => {
    const error = await whileAccountLocked(() =>
      errorOf(
        atomic(db(), async (tx) => {
          await executeStatement(
            tx,
            onPostgres
              ? sql`set local lock_timeout = '50ms'`
              : sql`set session innodb_lock_wait_timeout = 1`,
          );
          await lockAccount(tx, 1);
        }),
      ),
    );
    driverCheck(error);
    expect(
      onPostgres ? (error as { cause: { code: string } }).cause.code : (error as any).cause.errno,
    ).toBe(onPostgres ? '55P03' : 1205);
    expectClassified(error, { kind: 'lock_timeout', retryable: true });
  });

  it('anything else is "other" and not transient', async () => {
    const error = await drizzleError(db(), sql`select * from no_such_table`);
    expectClassified(error, { kind: 'other', retryable: false });
    for (const value of [null, undefined, 'text', 42, {}, new Error('plain')]) {
      expect(classifyError(value)).toEqual({ kind: 'other', retryable: false });
    }
  });

  if (t.kind === 'postgres') {
    it('an error raised by COMMIT itself is classified, wrapped or not (deferred unique constraint)', async () => {
      await t.connection.query(
        'create table deferred_codes (code text, constraint deferred_codes_unique unique (code) deferrable initially deferred)',
      );
      let bodyFinished = false;
      const error = await errorOf(
        atomic(db(), async (tx) => {
          await executeStatement(tx, sql`insert into deferred_codes values ('x'), ('x')`);
          bodyFinished = true; // the violation is only checked at COMMIT
        }),
      );
      expect(bodyFinished).toBe(true);
      // postgres.js sends COMMIT itself (its error arrives unwrapped); Drizzle's node-postgres
      // session sends it as a statement of its own (wrapped in DrizzleQueryError).
      if (t.driver === 'postgres-js') {
        expect(error).not.toBeInstanceOf(DrizzleQueryError);
        expect(error).toBeInstanceOf(postgres.PostgresError);
      } else {
        expect(error).toBeInstanceOf(DrizzleQueryError);
        expect((error as DrizzleQueryError).cause).toBeInstanceOf(pg.DatabaseError);
      }
      expect(classifyError(error)).toEqual({
        kind: 'unique_violation',
        constraint: 'deferred_codes_unique',
        retryable: false,
      });
      expect(isUniqueViolation(error, 'deferred_codes_unique')).toBe(true);
    });
  }
});
