import { RacefreeError } from '@racefree/transactions';

/**
 * The `where` key is taken by a row whose other `where` columns differ: the unique key says
 * "this row", the rest of `where` says "not this one". Nothing was created.
 */
export class KeyMismatchError extends RacefreeError {
  /** The row that holds the key. */
  readonly row: Record<string, unknown>;
  constructor(table: string, key: string[], mismatched: string[], row: Record<string, unknown>) {
    super(
      'KEY_MISMATCH',
      `The key (${key.join(', ')}) of ${table} is taken by a row whose ${mismatched.join(', ')} differ from where; nothing was created. Look the row up by its key, or include only the key in where.`,
    );
    this.row = row;
  }
}

/**
 * No primary key, unique constraint or unique index of the table covers the `where` columns:
 * without one, two concurrent callers can both create, and no get-or-create is race-free.
 */
export class NoUniqueKeyError extends RacefreeError {
  constructor(table: string, where: string[], keys: string[][]) {
    const known = keys.length ? keys.map((k) => `(${k.join(', ')})`).join(', ') : 'none';
    super(
      'NO_UNIQUE_KEY',
      `No unique key of ${table} covers where (${where.join(', ')}): concurrent callers could create duplicates. Add a unique constraint on these columns, or include a covering key (this table's unique keys: ${known}). To accept duplicates under concurrency, pass allowWithoutUniqueKey: true.`,
    );
  }
}
