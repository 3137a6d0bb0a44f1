/** Stable, machine-readable codes of every racefree error. */
export type RacefreeErrorCode =
  | 'INVALID_ARGUMENT'
  | 'TRANSACTION_REQUIRED'
  | 'UNMANAGED_TRANSACTION'
  | 'ROW_NOT_FOUND'
  | 'MULTIPLE_ROWS'
  | 'RETRY_EXHAUSTED'
  | 'COMMIT_OUTCOME_UNKNOWN'
  | 'TRANSACTION_ABORTED'
  | 'TRANSACTION_ENDED'
  | 'NOT_SUPPORTED'
  | 'SNAPSHOT_CONFLICT'
  | 'LOCK_NOT_AVAILABLE'
  | 'KEY_MISMATCH'
  | 'NO_UNIQUE_KEY'
  | (string & {});

/**
 * Base class of every error racefree raises: `instanceof RacefreeError` catches them all, and
 * `code` is stable across versions (match on it, not on the message).
 */
export class RacefreeError extends Error {
  readonly code: RacefreeErrorCode;

  constructor(code: RacefreeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad argument, refused before any SQL of the operation is sent. */
export class InvalidArgumentError extends RacefreeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The operation needs a transaction (row locks only last as long as one). Wrap the call in `atomic(db, …)`. */
export class TransactionRequiredError extends RacefreeError {
  constructor(operation: string) {
    super(
      'TRANSACTION_REQUIRED',
      `${operation} needs a transaction: a row lock taken outside one is released at once. Call it inside atomic(db, async (tx) => …).`,
    );
  }
}

/**
 * The transaction was opened by `db.transaction()` rather than `atomic()`, so racefree cannot
 * tell when it commits and cannot attach hooks or savepoints to it.
 */
export class UnmanagedTransactionError extends RacefreeError {
  constructor(operation: string) {
    super(
      'UNMANAGED_TRANSACTION',
      `${operation} was given a transaction that atomic() did not open (a raw db.transaction()). racefree cannot know when it commits; open transactions with atomic(db, …) instead.`,
    );
  }
}

/** The row does not exist (or no longer exists). */
export class RowNotFoundError extends RacefreeError {
  constructor(table: string, key: Record<string, unknown>) {
    super(
      'ROW_NOT_FOUND',
      `No row in ${table} matches ${describeKey(key)}; it may have been deleted.`,
    );
  }
}

/** More than one row matched where exactly one was expected: the lookup is not unique. */
export class MultipleRowsError extends RacefreeError {
  readonly count: number;
  constructor(table: string, key: Record<string, unknown>, count: number) {
    super(
      'MULTIPLE_ROWS',
      `${count} rows in ${table} match ${describeKey(key)} where one was expected; add a unique constraint on these columns.`,
    );
    this.count = count;
  }
}

/** Every attempt of a retried transaction failed with a transient error; `cause` is the last one. */
export class RetryExhaustedError extends RacefreeError {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(
      'RETRY_EXHAUSTED',
      `The transaction failed with a transient error on all ${attempts} attempts (last: ${messageOf(cause)}). Raise retries, or reduce contention on the rows involved.`,
      { cause },
    );
    this.attempts = attempts;
  }
}

/**
 * The connection was lost while COMMIT was in flight: the transaction may or may not have
 * committed. It is never retried (that could apply the writes twice); check the data, then decide.
 */
export class CommitOutcomeUnknownError extends RacefreeError {
  constructor(cause: unknown) {
    super(
      'COMMIT_OUTCOME_UNKNOWN',
      `The connection was lost while COMMIT was in flight (${messageOf(cause)}): the transaction may or may not have committed. It was not retried and no onCommit or onRollback hook ran; check whether the writes are there before acting again.`,
      { cause },
    );
  }
}

/**
 * The transaction was already lost when this block started: an earlier nested block failed and
 * its ROLLBACK TO SAVEPOINT failed too — on MySQL/MariaDB a deadlock (or error 1020) rolls back
 * the whole transaction, not just the savepoint. `cause` is the error that broke it; the
 * outermost `atomic` rethrows that error (and retries it when asked), never commits.
 */
export class TransactionAbortedError extends RacefreeError {
  constructor(cause: unknown) {
    super(
      'TRANSACTION_ABORTED',
      `The transaction was already rolled back by the server (${messageOf(cause)}); no statement of this block was sent. Let the error reach the outermost atomic() block, which can retry it with { retries }.`,
      { cause },
    );
  }
}

/** The server cannot do what was asked (checked before any SQL of the operation is sent). */
export class NotSupportedError extends RacefreeError {
  constructor(message: string) {
    super('NOT_SUPPORTED', message);
  }
}

/**
 * A row another transaction committed is outside this transaction's snapshot (PostgreSQL
 * REPEATABLE READ / SERIALIZABLE), so the answer would be a false "not found". It counts as a
 * serialization failure: `atomic(db, fn, { retries })` re-runs the whole transaction.
 */
export class SnapshotConflictError extends RacefreeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SNAPSHOT_CONFLICT', message, options);
  }
}

/** A row lock asked for with `noWait` is held by another transaction. Not retried. */
export class LockNotAvailableError extends RacefreeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_NOT_AVAILABLE', message, options);
  }
}

function describeKey(key: Record<string, unknown>): string {
  return `{ ${Object.entries(key)
    .map(([column, value]) => `${column}: ${JSON.stringify(value) ?? String(value)}`)
    .join(', ')} }`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
