/** Thrown when an operation returned no row, or the row of another key (counted as an error). */
export class WrongRowError extends Error {
  readonly code = 'WRONG_ROW';
}

/**
 * Checks that `row` is the row of `key` and returns it: a get-or-create that returns nothing or
 * another key's row is wrong, however fast it is.
 */
export function expectRow<R extends { name: string }>(key: string, row: R | undefined): R {
  if (row === undefined) throw new WrongRowError(`no row returned for key ${key}`);
  if (row.name !== key) throw new WrongRowError(`row of ${row.name} returned for key ${key}`);
  return row;
}
