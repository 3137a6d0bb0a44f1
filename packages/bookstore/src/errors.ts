import { RacefreeError } from '@racefree/transactions';

/**
 * The book has no copy left: nothing was sold and no order row was written (the HTTP app
 * answers 409). Code `SOLD_OUT`.
 */
export class SoldOutError extends RacefreeError {
  readonly bookId: number;

  constructor(bookId: number) {
    super(
      'SOLD_OUT',
      `Book ${bookId} is sold out: nothing was sold and no order was written. Restock it with restock(db, ${bookId}, n) and try again.`,
    );
    this.bookId = bookId;
  }
}

/** What a `NotFoundError` was looking for. */
export type BookstoreEntity = 'book' | 'customer';

/**
 * No book or customer has this id; nothing was written (the HTTP app answers 404). Code
 * `NOT_FOUND`; `entity` and `id` say which lookup failed.
 */
export class NotFoundError extends RacefreeError {
  readonly entity: BookstoreEntity;
  readonly id: number;

  constructor(entity: BookstoreEntity, id: number, options?: { cause?: unknown }) {
    super(
      'NOT_FOUND',
      `No ${entity} has id ${id}; nothing was written. Check the id (list books with listBooks(db)).`,
      options,
    );
    this.entity = entity;
    this.id = id;
  }
}
