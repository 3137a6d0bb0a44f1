/** An operation got no row, or a row it did not ask for or write (counted as an error). */
export class WrongRowError extends Error {
  readonly code = 'WRONG_ROW';
}

/** `row`, if it is `key`'s: a fast answer with the wrong row is still wrong. */
export function expectRow<R extends { name: string }>(key: string, row: R | undefined): R {
  if (row === undefined) throw new WrongRowError(`no row returned for key ${key}`);
  if (row.name !== key) throw new WrongRowError(`row of ${row.name} returned for key ${key}`);
  return row;
}
