import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { classifyError, isLockNotAvailable, isTransient, isUniqueViolation } from '../src/index.js';

/**
 * An error shaped exactly as mysql2 raises it (errno, code, sqlState, sqlMessage, sql) — a
 * FIXTURE, not a provoked error: MySQL 8 cannot run on this machine (MariaDB stands in for the
 * driver side, and its own errors are provoked for real in classify-error.test.ts).
 */
function mysql2Fixture(fields: {
  errno: number;
  code: string;
  sqlState: string;
  sqlMessage: string;
  sql: string;
}): Error {
  return Object.assign(new Error(fields.sqlMessage), fields);
}

/** The same error as Drizzle hands it to the caller. */
const wrapped = (error: Error & { sql?: string }) =>
  new DrizzleQueryError(error.sql ?? '', [], error);

describe('MySQL 8 errors (fixtures: MySQL 8 cannot run here)', () => {
  it('1062 names the key as "table.key" since 8.0.19: the constraint is the key', () => {
    const error = mysql2Fixture({
      errno: 1062,
      code: 'ER_DUP_ENTRY',
      sqlState: '23000',
      sqlMessage: "Duplicate entry '978-0-00-000000-0' for key 'books.books_isbn_unique'",
      sql: "insert into `books` (`isbn`) values ('978-0-00-000000-0')",
    });
    for (const shape of [error, wrapped(error)]) {
      expect(classifyError(shape)).toEqual({
        kind: 'unique_violation',
        constraint: 'books_isbn_unique',
        retryable: false,
      });
      expect(isUniqueViolation(shape, 'books_isbn_unique')).toBe(true);
      expect(isUniqueViolation(shape, 'books.books_isbn_unique')).toBe(false);
    }
  });

  it('3572 is MySQL 8’s NOWAIT failure: lock not available, never retried', () => {
    const error = mysql2Fixture({
      errno: 3572,
      code: 'ER_LOCK_NOWAIT',
      sqlState: 'HY000',
      sqlMessage:
        'Statement aborted because lock(s) could not be acquired immediately and NOWAIT is set.',
      sql: 'select * from `books` where `id` = 1 for update nowait',
    });
    for (const shape of [error, wrapped(error)]) {
      expect(classifyError(shape)).toEqual({ kind: 'lock_not_available', retryable: false });
      expect(isLockNotAvailable(shape)).toBe(true);
      expect(isTransient(shape)).toBe(false);
    }
  });

  it('1205 without NOWAIT is a lock-wait timeout: retryable', () => {
    const error = mysql2Fixture({
      errno: 1205,
      code: 'ER_LOCK_WAIT_TIMEOUT',
      sqlState: 'HY000',
      sqlMessage: 'Lock wait timeout exceeded; try restarting transaction',
      sql: 'select * from `books` where `id` = 1 for update',
    });
    expect(classifyError(wrapped(error))).toEqual({ kind: 'lock_timeout', retryable: true });
  });

  it('3819 check constraint names the constraint; 4025 on MySQL 8 is not a check violation', () => {
    const check = mysql2Fixture({
      errno: 3819,
      code: 'ER_CHECK_CONSTRAINT_VIOLATED',
      sqlState: 'HY000',
      sqlMessage: "Check constraint 'books_quantity_nonnegative' is violated.",
      sql: 'update `books` set `quantity` = -1',
    });
    expect(classifyError(check)).toEqual({
      kind: 'check_violation',
      constraint: 'books_quantity_nonnegative',
      retryable: false,
    });
    const autoextend = mysql2Fixture({
      errno: 4025,
      code: 'ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE',
      sqlState: 'HY000',
      sqlMessage: 'AUTOEXTEND_SIZE should be a multiple of 4M',
      sql: 'alter table `books` autoextend_size = 1M',
    });
    expect(classifyError(autoextend)).toEqual({ kind: 'other', retryable: false });
  });

  it('1452 names the foreign key constraint', () => {
    const error = mysql2Fixture({
      errno: 1452,
      code: 'ER_NO_REFERENCED_ROW_2',
      sqlState: '23000',
      sqlMessage:
        'Cannot add or update a child row: a foreign key constraint fails (`shop`.`orders`, CONSTRAINT `orders_book_fk` FOREIGN KEY (`book_id`) REFERENCES `books` (`id`))',
      sql: 'insert into `orders` (`book_id`) values (999)',
    });
    expect(classifyError(error)).toEqual({
      kind: 'foreign_key_violation',
      constraint: 'orders_book_fk',
      retryable: false,
    });
  });

  it('mysql2’s own lost-connection errors (fixtures of the driver, any server)', () => {
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {
      code: 'PROTOCOL_CONNECTION_LOST',
      fatal: true,
    });
    const closed = Object.assign(
      new Error("Can't add new command when connection is in closed state"),
      { fatal: true },
    );
    for (const error of [lost, closed]) {
      expect(classifyError(error)).toEqual({ kind: 'connection_lost', retryable: false });
      expect(classifyError(new DrizzleQueryError('commit', [], error))).toEqual({
        kind: 'connection_lost',
        retryable: false,
      });
    }
  });
});
